/**
 * The command engine's bound on what a run prints: stdout past the cap stops the run and fails
 * the job as a model error that says so, instead of growing the worker's memory.
 */
import test from "ava";
import { createCommandEngine } from "../../worker/engines/command.ts";
import { EngineError, type EngineJob } from "../../worker/engines/engine.ts";

/** Prints 64 KiB chunks for ever, as fast as the pipe takes them. */
const FLOODER = [
  process.execPath,
  "-e",
  "const b = 'x'.repeat(65536); (function w() { while (process.stdout.write(b)); process.stdout.once('drain', w); })();",
];
/** Prints a JSON output of about 300 KB, with multi-byte characters split across chunks. */
const BIG_JSON = [
  process.execPath,
  "-e",
  // 23 bytes before the first "é" (2 bytes each): chunks of the pipe end in the middle of one.
  "process.stdout.write(JSON.stringify({ graphError: 0, txt: 'é'.repeat(150000) }));",
];

const job = (application: string): EngineJob => ({
  jobId: "j",
  sessionId: "s",
  simulation: "sim",
  application,
  input: {},
  initialize: false,
  reset: false,
  stagedFiles: {},
});

const engine = createCommandEngine({
  executables: { flooder: FLOODER, big: BIG_JSON },
  timeoutSeconds: 600,
  maxStdoutBytes: 1024 * 1024,
});

test("a run that prints more than the cap on stdout is stopped and fails as a model error saying so", async (t) => {
  const error = await t.throwsAsync(engine.run(job("flooder"), new AbortController().signal));
  t.true(error instanceof EngineError);
  t.is((error as EngineError).errorClass, "model");
  t.regex(error?.message ?? "", /printed more than 1048576 bytes on stdout/);
});

test("an output under the cap is read whole, multi-byte characters included", async (t) => {
  const output = await engine.run(job("big"), new AbortController().signal);
  t.is(output.graphError, 0);
  t.is(output.txt, "é".repeat(150000));
});
