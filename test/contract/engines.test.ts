/**
 * One contract every engine keeps: output for input, EngineError for a failed job, and a prompt
 * stop when the job is aborted (killed or shut down).
 */
import test from "ava";
import { createCommandEngine } from "../../worker/engines/command.ts";
import { type Engine, EngineError, type EngineJob } from "../../worker/engines/engine.ts";
import { createFakeEngine } from "../../worker/engines/fake.ts";
import { SAMPLE_APPLICATIONS } from "../../worker/engines/registry.ts";

const SLEEPER = [process.execPath, "-e", "setTimeout(() => {}, 600000)"];
const FAILER = [process.execPath, "-e", "process.stderr.write('license server down'); process.exit(3)"];

const engines: {
  name: string;
  engine: Engine;
  application: string;
  input: Record<string, unknown>;
  failing: EngineJob["input"];
  slowApplication: string;
  failApplication: string;
}[] = [
  {
    name: "fake",
    engine: createFakeEngine(),
    application: "fake",
    input: { x: 1 },
    failing: { fail: true },
    slowApplication: "fake",
    failApplication: "fake",
  },
  {
    name: "command (cstr sample)",
    engine: createCommandEngine({
      executables: { ...SAMPLE_APPLICATIONS, sleeper: SLEEPER, failer: FAILER },
      timeoutSeconds: 600,
    }),
    application: "cstr",
    input: { T: 350 },
    failing: {},
    slowApplication: "sleeper",
    failApplication: "failer",
  },
];

const job = (application: string, input: Record<string, unknown>): EngineJob => ({
  jobId: "j",
  sessionId: "s",
  simulation: "sim",
  application,
  input,
  initialize: false,
  reset: false,
  stagedFiles: {},
});

for (const { name, engine, application, input, failing, slowApplication, failApplication } of engines) {
  test(`${name}: returns a FOQUS-shaped output for its input`, async (t) => {
    const output = await engine.run(job(application, input), new AbortController().signal);
    t.is(output.graphError, 0);
    t.deepEqual(
      (output.input as Record<string, unknown>).T ?? (output.input as Record<string, unknown>).x,
      input.T ?? input.x,
    );
  });

  test(`${name}: a failed job is an EngineError with a message`, async (t) => {
    const error = await t.throwsAsync(
      engine.run(job(failApplication, failing), new AbortController().signal),
    );
    t.true(error instanceof EngineError);
    t.true((error?.message ?? "").length > 0);
  });

  test(`${name}: an aborted run stops instead of running to its end`, async (t) => {
    const controller = new AbortController();
    const run = engine.run(job(slowApplication, { ...input, delayMs: 600_000 }), controller.signal);
    controller.abort("killed");
    const error = await t.throwsAsync(run);
    t.false(error instanceof EngineError, "an abort is not a job failure");
  });
}

test("command: stderr becomes the message of a failed run", async (t) => {
  const engine = createCommandEngine({ executables: { failer: FAILER }, timeoutSeconds: 60 });
  const error = await t.throwsAsync(engine.run(job("failer", {}), new AbortController().signal));
  t.is(error?.message, "license server down");
  t.is((error as EngineError).errorClass, "model");
});

test("command: a run over its time limit is killed and classed as a timeout", async (t) => {
  const engine = createCommandEngine({ executables: { sleeper: SLEEPER }, timeoutSeconds: 1 });
  const error = await t.throwsAsync(engine.run(job("sleeper", {}), new AbortController().signal));
  t.is((error as EngineError).errorClass, "timeout");
});

test("command: an application without an executable is refused as invalid input", async (t) => {
  const engine = createCommandEngine({ executables: {}, timeoutSeconds: 60 });
  const error = await t.throwsAsync(engine.run(job("nothing", {}), new AbortController().signal));
  t.is((error as EngineError).errorClass, "invalid-input");
});
