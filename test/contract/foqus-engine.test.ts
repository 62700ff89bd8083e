/**
 * The foqus engine against the real FOQUS: the sample flowsheet (worker/apps/flowsheets) and
 * the variants in test/fixtures/foqus (built with FOQUS by build_sessions.py there).
 *
 * FOQUS is found by local/env/foqus-runtime.ts (FOQUS_PYTHON, or the vendored runtime unpacked
 * by `bash local/env/foqus-runtime.sh`). Without it every test is skipped and the reason is
 * printed; with FOQUS_REQUIRED=1 (CI) its absence fails instead.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { findFoqusRuntime } from "../../local/env/foqus-runtime.ts";
import { EngineError, type EngineJob } from "../../worker/engines/engine.ts";
import { createFoqusEngine, type FoqusEngine, type FoqusEngineOptions } from "../../worker/engines/foqus.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SAMPLE = join(ROOT, "worker/apps/flowsheets/mix-scale.foqus");
const fixture = (name: string) => join(ROOT, "test/fixtures/foqus", name);

const runtime = findFoqusRuntime();
const required = process.env.FOQUS_REQUIRED === "1";
if (!runtime.available) {
  if (required) {
    test("FOQUS is available (FOQUS_REQUIRED=1)", (t) => {
      t.fail(`FOQUS is required but unavailable: ${runtime.reason}`);
    });
  } else {
    console.log(`foqus engine tests skipped: ${runtime.reason}`);
  }
}
/** Tests that need FOQUS: serial (each starts FOQUS processes on a small, shared machine). */
const foqus = runtime.available ? test.serial : test.skip;

type Values = Record<string, Record<string, unknown>>;

function engineFor(t: ExecutionContext, options: Partial<FoqusEngineOptions> = {}): FoqusEngine {
  if (!runtime.available) throw new Error(runtime.reason);
  const workDir = mkdtempSync(join(tmpdir(), "foqus-engine-test-"));
  const engine = createFoqusEngine({
    python: runtime.python,
    foqusPath: runtime.foqusPath,
    timeoutSeconds: 300,
    workDir,
    maxProcesses: 2,
    ...options,
  });
  t.teardown(async () => {
    await engine.close();
    rmSync(workDir, { recursive: true, force: true });
  });
  return engine;
}

function job(
  configuration: string,
  input: Record<string, unknown>,
  extra: Partial<EngineJob> = {},
): EngineJob {
  return {
    jobId: "job",
    sessionId: "session",
    simulation: "zzfoqus_test",
    application: "foqus",
    input,
    initialize: false,
    reset: false,
    stagedFiles: { configuration },
    ...extra,
  };
}

const never = () => new AbortController().signal;
const outputs = (output: Record<string, unknown>) => output.output as Values;
const inputs = (output: Record<string, unknown>) => output.input as Values;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 120_000) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tempCopy(t: ExecutionContext, source: string, name = "session.foqus"): string {
  const dir = mkdtempSync(join(tmpdir(), "foqus-session-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  writeFileSync(path, readFileSync(source));
  return path;
}

foqus("runs the sample flowsheet: the session's own values plus the job's Input", async (t) => {
  const engine = engineFor(t);
  const output = await engine.run(job(SAMPLE, { Mix: { x: 4 } }), never());
  t.is(output.graphError, 0);
  t.deepEqual(inputs(output).Mix, { x: 4, y: 2 });
  t.deepEqual(outputs(output).Mix, { s: 6, p: 8 });
  t.deepEqual(outputs(output).Scale, { r: 18 });
  t.deepEqual(output.nodeError, { Mix: 0, Scale: 0 });
  t.is(typeof output.solTime, "number");

  const defaults = await engine.run(job(SAMPLE, {}), never());
  t.deepEqual(outputs(defaults).Scale, { r: 9 }, "r = k * (x + y) = 3 * (1 + 2)");
});

foqus(
  "a node that raises is a model error naming the graph error and the node, with the output",
  async (t) => {
    const engine = engineFor(t);
    const error = await t.throwsAsync(engine.run(job(fixture("raises.foqus"), {}), never()), {
      instanceOf: EngineError,
    });
    t.is(error?.errorClass, "model");
    t.regex(error?.message ?? "", /graph error 1 \(Failure in node calculation/);
    t.regex(error?.message ?? "", /node Boom failed with error 21 \(Error in Python node script code\)/);
    t.regex(error?.message ?? "", /RuntimeError: boom: this node always fails/);
    t.is(error?.output?.graphError, 1);
    t.deepEqual(error?.output?.nodeError, { Boom: 21 });
  },
);

foqus("a session file FOQUS cannot load is a staging error, and the engine goes on", async (t) => {
  const engine = engineFor(t);
  const cases: [string, RegExp][] = [
    ["{not json", /not JSON/],
    [JSON.stringify({ Type: "Spreadsheet" }), /not a FOQUS session/],
    [
      JSON.stringify({ Type: "FOQUS_Session", flowsheet: { nodes: 3 } }),
      /FOQUS cannot load the session file/,
    ],
  ];
  for (const [content, message] of cases) {
    const path = tempCopy(t, SAMPLE);
    writeFileSync(path, content);
    const error = await t.throwsAsync(engine.run(job(path, {}), never()), { instanceOf: EngineError });
    t.is(error?.errorClass, "staging", content);
    t.regex(error?.message ?? "", message);
  }
  const missing = await t.throwsAsync(engine.run(job("/nonexistent/session.foqus", {}), never()), {
    instanceOf: EngineError,
  });
  t.is(missing?.errorClass, "staging");
  const unstaged = await t.throwsAsync(engine.run({ ...job(SAMPLE, {}), stagedFiles: {} }, never()), {
    instanceOf: EngineError,
  });
  t.is(unstaged?.errorClass, "staging");
  t.regex(unstaged?.message ?? "", /configuration/);
  t.deepEqual(outputs(await engine.run(job(SAMPLE, {}), never())).Scale, { r: 9 });
});

foqus("an Input naming an unknown node or variable is invalid input", async (t) => {
  const engine = engineFor(t);
  const variable = await t.throwsAsync(engine.run(job(SAMPLE, { Mix: { z: 1 } }), never()), {
    instanceOf: EngineError,
  });
  t.is(variable?.errorClass, "invalid-input");
  t.regex(variable?.message ?? "", /node Mix has no input variable "z" \(inputs: x, y\)/);
  const node = await t.throwsAsync(engine.run(job(SAMPLE, { Mixer: { x: 1 } }), never()), {
    instanceOf: EngineError,
  });
  t.is(node?.errorClass, "invalid-input");
  t.regex(node?.message ?? "", /no node "Mixer" \(nodes: Mix, Scale\)/);
  const output = await t.throwsAsync(engine.run(job(SAMPLE, { Mix: { s: 1 } }), never()), {
    instanceOf: EngineError,
  });
  t.regex(output?.message ?? "", /Mix\.s is an output of node Mix, not an input/);
  // The process that refused them runs the next job with the session's values.
  const [before] = engine.processes();
  t.deepEqual(outputs(await engine.run(job(SAMPLE, {}), never())).Mix, { s: 3, p: 2 });
  t.is(engine.processes()[0]?.pid, before?.pid);
});

foqus("a value of the wrong type is invalid input", async (t) => {
  const engine = engineFor(t);
  for (const input of [{ Mix: { x: "abc" } }, { Mix: { x: null } }, { Mix: { x: [1, 2] } }, { Mix: 5 }]) {
    const error = await t.throwsAsync(engine.run(job(SAMPLE, input), never()), { instanceOf: EngineError });
    t.is(error?.errorClass, "invalid-input", JSON.stringify(input));
    t.regex(error?.message ?? "", /Mix/);
  }
  const error = await t.throwsAsync(engine.run(job(SAMPLE, { Mix: { x: "abc" } }), never()));
  t.regex(error?.message ?? "", /Mix\.x = "abc" is not a float/);
});

foqus("Reset loads the session again in the warm process", async (t) => {
  const engine = engineFor(t);
  await engine.run(job(SAMPLE, { Mix: { x: 5 } }), never());
  const [first] = engine.processes();
  t.is(first?.loads, 1);
  const output = await engine.run(job(SAMPLE, { Mix: { y: 3 } }, { reset: true }), never());
  t.deepEqual(outputs(output).Scale, { r: 12 }, "3 * (1 + 3): x is the session's, not the last job's");
  const [after] = engine.processes();
  t.is(after?.pid, first?.pid);
  t.is(after?.loads, 2);
});

foqus("consecutive jobs on one warm process never carry over values", async (t) => {
  const engine = engineFor(t);
  const first = await engine.run(job(SAMPLE, { Mix: { x: 2, y: 5 } }), never());
  t.deepEqual(outputs(first).Scale, { r: 21 });
  const pid = engine.processes()[0]?.pid;
  // Upstream gave r = 3 * (4 + 5) = 27 here: y carried over from the job before.
  const second = await engine.run(job(SAMPLE, { Mix: { x: 4 } }), never());
  t.deepEqual(inputs(second).Mix, { x: 4, y: 2 });
  t.deepEqual(outputs(second).Scale, { r: 18 });
  // A failed job leaves nothing behind either.
  const failed = await t.throwsAsync(engine.run(job(SAMPLE, { Mix: { x: 10 }, Scale: { k: -1 } }), never()), {
    instanceOf: EngineError,
  });
  t.is(failed?.errorClass, "model");
  t.regex(failed?.message ?? "", /node Scale failed .*k must be >= 0/);
  const third = await engine.run(job(SAMPLE, {}), never());
  t.deepEqual(inputs(third).Scale, { s: 3, k: 3 });
  t.deepEqual(outputs(third), { graph: { error: 0 }, Mix: { s: 3, p: 2 }, Scale: { r: 9 } });
  t.deepEqual(
    engine.processes().map((p) => p.pid),
    [pid],
    "one warm process ran all four",
  );
});

foqus("a session file replaced between jobs is loaded afresh", async (t) => {
  const engine = engineFor(t);
  const path = tempCopy(t, SAMPLE, "configuration");
  t.deepEqual(outputs(await engine.run(job(path, {}), never())).Scale, { r: 9 });
  const oldPid = engine.processes()[0]?.pid;
  const session = JSON.parse(readFileSync(path, "utf8"));
  session.flowsheet.input.Scale.k.value = 5;
  writeFileSync(path, JSON.stringify(session)); // same path, as the worker's cache re-downloads it
  t.deepEqual(outputs(await engine.run(job(path, {}), never())).Scale, { r: 15 }, "5 * (1 + 2)");
  const processes = engine.processes();
  t.is(processes.length, 1, "the process of the old file was retired");
  t.not(processes[0]?.pid, oldPid);
});

foqus("an aborted run stops with AbortError and the next job gets a working process", async (t) => {
  const engine = engineFor(t, { terminateGraceMs: 500 });
  const controller = new AbortController();
  const run = engine.run(job(fixture("slow.foqus"), { Wait: { seconds: 600 } }), controller.signal);
  await until(() => engine.processes().some((p) => p.running), "the flowsheet to run");
  const pid = engine.processes()[0]?.pid ?? 0;
  controller.abort("killed");
  const error = await t.throwsAsync(run);
  t.is(error?.name, "AbortError");
  t.false(error instanceof EngineError, "an abort is not a job failure");
  await until(() => !isAlive(pid), "the FOQUS process running the aborted job to end");
  const next = await engine.run(job(fixture("slow.foqus"), { Wait: { seconds: 0 } }), never());
  t.deepEqual(outputs(next).After, { finished: 1 });
});

foqus("an abort FOQUS can honour between nodes keeps the process warm", async (t) => {
  const engine = engineFor(t, { terminateGraceMs: 60_000 });
  const controller = new AbortController();
  // Wait sleeps 1 s; FOQUS checks the terminate flag before After, so it stops there.
  const run = engine.run(job(fixture("slow.foqus"), { Wait: { seconds: 1 } }), controller.signal);
  await until(() => engine.processes().some((p) => p.running), "the flowsheet to run");
  const pid = engine.processes()[0]?.pid;
  controller.abort("killed");
  const error = await t.throwsAsync(run);
  t.is(error?.name, "AbortError");
  const next = await engine.run(job(fixture("slow.foqus"), {}), never());
  t.deepEqual(outputs(next).After, { finished: 1 });
  t.is(engine.processes()[0]?.pid, pid, "the terminated process ran the next job");
});

foqus("the FOQUS process dying mid-run fails only that job, with its log", async (t) => {
  const engine = engineFor(t);
  const run = engine.run(job(fixture("slow.foqus"), { Wait: { seconds: 600 } }), never());
  await until(() => engine.processes().some((p) => p.running), "the flowsheet to run");
  const pid = engine.processes()[0]?.pid ?? 0;
  process.kill(pid, "SIGKILL");
  const error = await t.throwsAsync(run, { instanceOf: EngineError });
  t.is(error?.errorClass, "model");
  t.regex(error?.message ?? "", /FOQUS process was killed by SIGKILL during the run/);
  t.regex(error?.message ?? "", /Last lines of its log:\n.+/);
  const next = await engine.run(job(fixture("slow.foqus"), { Wait: { seconds: 0 } }), never());
  t.deepEqual(outputs(next).After, { finished: 1 });
  t.not(engine.processes()[0]?.pid, pid);
});

foqus("a run over its time limit is stopped and classed as a timeout", async (t) => {
  const engine = engineFor(t, { timeoutSeconds: 3, terminateGraceMs: 200 });
  await engine.run(job(fixture("slow.foqus"), {}), never()); // warm: the limit lands on the run
  const error = await t.throwsAsync(
    engine.run(job(fixture("slow.foqus"), { Wait: { seconds: 600 } }), never()),
    {
      instanceOf: EngineError,
    },
  );
  t.is(error?.errorClass, "timeout");
  t.regex(error?.message ?? "", /time limit of 3 s/);
  t.deepEqual(outputs(await engine.run(job(fixture("slow.foqus"), {}), never())).After, { finished: 1 });
});

foqus('NaN and infinite outputs come back as "NaN", "Infinity", "-Infinity"', async (t) => {
  const engine = engineFor(t);
  const output = await engine.run(job(fixture("nan.foqus"), {}), never());
  t.is(output.graphError, 0);
  t.deepEqual(outputs(output).Limits, { a: 2, nan: "NaN", inf: "Infinity", ninf: "-Infinity" });
  t.deepEqual(JSON.parse(JSON.stringify(output)), output, "the output survives JSON as it is");
});

foqus("two simulations run side by side on one worker", async (t) => {
  const engine = engineFor(t);
  const [sample, nan] = await Promise.all([
    engine.run(job(SAMPLE, { Mix: { x: 4 } }, { simulation: "zzfoqus_mix" }), never()),
    engine.run(job(fixture("nan.foqus"), { Limits: { a: 7 } }, { simulation: "zzfoqus_nan" }), never()),
  ]);
  t.deepEqual(outputs(sample).Scale, { r: 18 });
  t.is(outputs(nan).Limits?.a, 7);
  t.deepEqual(
    engine
      .processes()
      .map((p) => p.sessionPath)
      .sort(),
    [SAMPLE, fixture("nan.foqus")].sort(),
  );
  // Each keeps its own warm process.
  t.deepEqual(outputs(await engine.run(job(SAMPLE, { Mix: { y: 0 } }), never())).Scale, { r: 3 });
  t.is(engine.processes().length, 2);
});

foqus("concurrent jobs of one simulation each get their own values", async (t) => {
  const engine = engineFor(t);
  const results = await Promise.all(
    [1, 2, 3, 4].map((x) => engine.run(job(SAMPLE, { Mix: { x } }), never())),
  );
  t.deepEqual(
    results.map((output) => outputs(output).Scale?.r),
    [1, 2, 3, 4].map((x) => 3 * (x + 2)),
  );
  t.true(engine.processes().length <= 2, "no more processes than maxProcesses");
});

test("a FOQUS that cannot start fails the job with what to fix", async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), "foqus-engine-test-"));
  const engine = createFoqusEngine({ python: "/nonexistent/python3", timeoutSeconds: 60, workDir });
  t.teardown(async () => {
    await engine.close();
    rmSync(workDir, { recursive: true, force: true });
  });
  const error = await t.throwsAsync(engine.run(job(SAMPLE, {}), never()), { instanceOf: EngineError });
  t.regex(
    error?.message ?? "",
    /FOQUS did not start on this worker .*FOQUS_PYTHON \(\/nonexistent\/python3\)/,
  );
});
