/**
 * The CLI's tables: CSV read incrementally (quotes, line breaks, CRLF, a BOM), samples to job
 * Inputs (FOQUS `Node.var` and plain keys), and results written in input order as they arrive in
 * finish order, including a 100,000-row input streamed through both.
 */
import { PassThrough, Readable, Writable } from "node:stream";
import test from "ava";
import { csvLine, parseCsv } from "../../cli/csv.ts";
import { OrderedResultWriter } from "../../cli/result-writer.ts";
import { inAppendOrder, rowOfJobId } from "../../cli/run-session.ts";
import { cellToValue, flattenVariables, readSamples, rowToInput } from "../../cli/samples.ts";
import type { JobRecord } from "../../client/api-client.ts";

async function rows(text: string | string[]): Promise<string[][]> {
  const out: string[][] = [];
  for await (const row of parseCsv(Readable.from(Array.isArray(text) ? text : [text]))) out.push(row);
  return out;
}

function record(id: string, input: Record<string, unknown>, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    Id: id,
    Session: "s",
    Simulation: "sim",
    Application: "fake",
    Input: input,
    Initialize: false,
    Reset: false,
    State: "success",
    Create: "2026-01-01T00:00:00.000Z",
    Submit: null,
    Setup: null,
    Running: null,
    Finished: null,
    ConsumerId: null,
    Output: { output: input, graphError: 0 },
    Message: null,
    ...overrides,
  } as JobRecord;
}

class Collect extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

test("parses quoted fields, doubled quotes, line breaks in quotes, CRLF and a BOM", async (t) => {
  t.deepEqual(await rows('\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",\r\n'), [
    ["a", "b", "c"],
    ["1", "x, y", 'say "hi"'],
    ["2", "two\nlines", ""],
  ]);
});

test("a field split across chunks, even mid-quote, parses as one", async (t) => {
  t.deepEqual(await rows(['a,b\n1,"lo', 'ng""x', '"""', "\n2,3"]), [
    ["a", "b"],
    ["1", 'long"x"'],
    ["2", "3"],
  ]);
});

test("blank lines are skipped and an unclosed quote is an error", async (t) => {
  t.deepEqual(await rows("a\n\n1\n\n"), [["a"], ["1"]]);
  await t.throwsAsync(rows('a\n"open'), { message: /closing quote/ });
});

test("what we write reads back the same", async (t) => {
  const values = ["plain", "a,b", 'q"q', "line\nbreak", " padded ", 1.5e-145, true, null];
  const [back] = await rows(csvLine(values));
  t.deepEqual(back, ["plain", "a,b", 'q"q', "line\nbreak", " padded ", "1.5e-145", "true", ""]);
});

test("cells become numbers, booleans, JSON or text; empty cells are left out", (t) => {
  t.is(cellToValue("-2.75e-145"), -2.75e-145);
  t.is(cellToValue(" 42 "), 42);
  t.is(cellToValue("true"), true);
  t.deepEqual(cellToValue("[1, 2]"), [1, 2]);
  t.is(cellToValue("[not json"), "[not json");
  t.is(cellToValue("hot"), "hot");
  t.is(cellToValue("1e"), "1e");
  t.is(cellToValue(""), undefined);
});

test("FOQUS columns Node.var nest; other applications keep plain keys", (t) => {
  const header = ["Mix.x", "Mix.y", "Scale.k", "note", "blank"];
  const cells = ["1", "2.5", "3", "a.b", ""];
  t.deepEqual(rowToInput(header, cells, true), { Mix: { x: 1, y: 2.5 }, Scale: { k: 3 }, note: "a.b" });
  t.deepEqual(rowToInput(["a.b", "T"], ["1", "350"], false), { "a.b": 1, T: 350 });
  t.deepEqual(
    [...flattenVariables({ Mix: { s: 3, v: [1, 2] }, top: 1 }, true).entries()],
    [
      ["Mix.s", 3],
      ["Mix.v", [1, 2]],
      ["top", 1],
    ],
  );
});

test("results arriving in finish order are written in input order, the header after the first success", (t) => {
  const out = new Collect();
  const writer = new OrderedResultWriter({
    out,
    format: "csv",
    inputColumns: () => ["T"],
    nested: false,
    foqus: false,
  });
  writer.add(2, record("r2", { T: 3 }));
  writer.add(1, record("r1", { T: 2 }, { State: "error", Output: null, Message: "bad, very" }));
  t.is(out.text, "T,output.T,State,graphError,Message\n", "the header, and no row before row 0 arrives");
  writer.add(0, record("r0", { T: 1 }));
  writer.add(0, record("r0", { T: 1 })); // a record seen twice
  writer.finish();
  t.is(
    out.text,
    ["T,T_out,State,graphError,Message", "1,1,success,0,", '2,,error,,"bad, very"', "3,3,success,0,", ""]
      .join("\n")
      .replace("T_out", "output.T"),
  );
  t.is(writer.written, 3);
});

test("a partial finish writes every held row in order, skipping unfinished ones", (t) => {
  const out = new Collect();
  const writer = new OrderedResultWriter({
    out,
    format: "jsonl",
    inputColumns: () => [],
    nested: false,
    foqus: false,
  });
  writer.add(3, record("r3", { i: 3 }));
  writer.add(1, record("r1", { i: 1 }));
  writer.finish(true);
  t.deepEqual(
    out.text
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { Id: string }).Id),
    ["r1", "r3"],
  );
});

test("job ids of ours name their input row; records sort into append order", (t) => {
  t.is(rowOfJobId("tag1", "tag1-0000042"), 42);
  t.is(rowOfJobId("tag1", "other-0000042"), undefined);
  const a = record("t-0000002", {}, { Create: "2026-01-01T00:00:01.000Z" });
  const b = record("t-0000010", {}, { Create: "2026-01-01T00:00:01.000Z" });
  const c = record("u-0000001", {}, { Create: "2026-01-01T00:00:00.500Z" });
  t.deepEqual(
    inAppendOrder([b, a, c]).map((r) => r.Id),
    ["u-0000001", "t-0000002", "t-0000010"],
  );
});

test("a 100,000-row input streams in and out: samples come before the input ends, rows in order", async (t) => {
  const ROWS = 100_000;
  const input = new PassThrough();
  const source = readSamples(input, "csv", true);
  input.write("Mix.x,Mix.y\n");
  input.write("0,0\n1,2\n");
  // The first sample is there while most of the input has not been written yet.
  const first = await source.samples.next();
  t.deepEqual(first.value, { index: 0, input: { Mix: { x: 0, y: 0 } } });
  (async () => {
    for (let i = 2; i < ROWS; i += 1000) {
      let chunk = "";
      for (let j = i; j < Math.min(ROWS, i + 1000); j++) chunk += `${j},${2 * j}\n`;
      if (!input.write(chunk)) await new Promise((resolve) => input.once("drain", resolve));
    }
    input.end();
  })();

  const out = new Collect();
  const writer = new OrderedResultWriter({
    out,
    format: "csv",
    inputColumns: source.columns,
    nested: true,
    foqus: true,
  });
  const asRecord = (index: number, sample: Record<string, unknown>) =>
    record(`t-${index}`, sample, {
      Application: "foqus",
      Output: { output: { Mix: { s: index * 3 } }, graphError: 0 },
    });
  // Records come back shuffled within windows of 64, as finish order shuffles them.
  let window: { index: number; input: Record<string, unknown> }[] = [first.value as never];
  let count = 1;
  const flushWindow = () => {
    for (const s of window.reverse()) writer.add(s.index, asRecord(s.index, s.input));
    window = [];
  };
  for await (const sample of source.samples) {
    window.push(sample);
    count++;
    if (window.length === 64) flushWindow();
  }
  flushWindow();
  writer.finish();

  t.is(count, ROWS);
  const lines = out.text.trimEnd().split("\n");
  t.is(lines.length, ROWS + 1);
  t.is(lines[0], "Mix.x,Mix.y,Mix.s,State,graphError,Message");
  for (const i of [0, 1, 63, 64, 65, 54_321, ROWS - 1])
    t.is(lines[i + 1], `${i},${2 * i},${3 * i},success,0,`);
});
