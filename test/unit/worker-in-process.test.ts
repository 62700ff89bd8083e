/**
 * The worker loop and the run of a job, in process: a job queue, an outbox, a job store and an
 * engine in memory, so every outcome (finished, failed, killed, released) and the shutdown can
 * be driven step by step. Waits are bounded polls for an outcome, never timings.
 */
import test from "ava";
import { newEvent } from "../../core/events/event-publisher.ts";
import { EventTypes, type FoqusEvent } from "../../core/events/events.ts";
import type { JobItem } from "../../core/jobs/job.ts";
import { jobKey } from "../../core/jobs/job-store.ts";
import type { JobState } from "../../core/jobs/states.ts";
import { type Engine, EngineError, type EngineJob } from "../../worker/engines/engine.ts";
import type { Delivery, JobQueue } from "../../worker/job-queue.ts";
import type { ReadJobs } from "../../worker/lease.ts";
import { Worker, type WorkerOptions } from "../../worker/worker.ts";
import { makeJobItem } from "../helpers/factories.ts";

/** A job queue in memory: records what the worker deleted, released and extended. */
class MemoryQueue implements JobQueue {
  readonly deleted: string[] = [];
  readonly released: string[] = [];
  /** Delivery ids of each extension call, in order. */
  readonly extended: string[][] = [];
  flushes = 0;
  receives = 0;
  failReceives = 0;
  failDelete = false;
  failFlush = false;
  private readonly waiting: Delivery[] = [];
  private wake: (() => void) | undefined;
  private next = 0;

  send(session: string, job: string): Delivery {
    const body = JSON.stringify(
      newEvent({
        event: EventTypes.jobSubmit,
        username: "alice",
        session,
        job,
        application: "fake",
        simulation: "sim",
      }),
    );
    const delivery = { id: `delivery-${++this.next}`, body, attempt: 1 };
    this.waiting.push(delivery);
    this.wake?.();
    return delivery;
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    this.receives += 1;
    if (this.failReceives > 0) {
      this.failReceives -= 1;
      throw new Error("SQS unreachable");
    }
    while (this.waiting.length === 0) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    return this.waiting.splice(0, max);
  }

  async delete(delivery: Delivery): Promise<void> {
    if (this.failDelete) throw new Error("DeleteMessageBatch failed");
    this.deleted.push(delivery.id);
  }

  async release(delivery: Delivery): Promise<void> {
    this.released.push(delivery.id);
  }

  async extend(deliveries: readonly Delivery[]): Promise<void> {
    this.extended.push(deliveries.map((delivery) => delivery.id));
  }

  async flush(): Promise<void> {
    this.flushes += 1;
    if (this.failFlush) throw new Error("the deletes could not be flushed");
  }
}

class MemoryOutbox {
  readonly events: FoqusEvent[] = [];
  flushes = 0;
  failFlush = false;
  failAdd: ((event: FoqusEvent) => Error | undefined) | undefined;

  async add(event: FoqusEvent): Promise<void> {
    const error = this.failAdd?.(event);
    if (error) throw error;
    this.events.push(event);
  }

  async flush(): Promise<void> {
    this.flushes += 1;
    if (this.failFlush) throw new Error("the outbox could not be flushed");
  }

  of(session: string): string[] {
    return this.events.filter((event) => event.session === session).map((event) => event.event);
  }
}

/** The jobs table in memory; records the keys of every read. */
class MemoryJobs {
  readonly reads: string[][] = [];
  private readonly records = new Map<string, JobItem>();

  put(session: string, job: string, state: JobState = "submit"): void {
    this.records.set(
      jobKey(session, job),
      makeJobItem({
        SessionId: session,
        JobId: job,
        Simulation: "sim",
        Application: "fake",
        InputJson: JSON.stringify({ x: 1 }),
        State: state,
      }),
    );
  }

  /** Reads that fail before the next one succeeds. */
  failReads = 0;

  setState(session: string, job: string, state: JobState): void {
    const record = this.records.get(jobKey(session, job));
    if (record) record.State = state;
  }

  readonly readJobs: ReadJobs = async (keys) => {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new Error("DynamoDB throttled the read");
    }
    this.reads.push(keys.map(({ sessionId, jobId }) => jobKey(sessionId, jobId)));
    const found = new Map<string, JobItem>();
    for (const { sessionId, jobId } of keys) {
      const record = this.records.get(jobKey(sessionId, jobId));
      if (record) found.set(jobKey(sessionId, jobId), { ...record });
    }
    return found;
  };
}

interface EngineCall {
  job: EngineJob;
  signal: AbortSignal;
  finish: (output: Record<string, unknown>) => void;
  fail: (error: unknown) => void;
}

/** An engine whose runs end when the test says so, or when their signal aborts. */
class ControlledEngine implements Engine {
  readonly name = "fake";
  readonly calls: EngineCall[] = [];

  run(job: EngineJob, signal: AbortSignal): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const abort = () => {
        const error = new Error(`The run was stopped (${String(signal.reason)}).`);
        error.name = "AbortError";
        reject(error);
      };
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      this.calls.push({ job, signal, finish: resolve, fail: reject });
    });
  }

  of(session: string): EngineCall {
    const call = this.calls.find((c) => c.job.sessionId === session);
    if (!call) throw new Error(`no engine run for session ${session}`);
    return call;
  }
}

type LogLine = Record<string, unknown> & { level: string; message: string };

function memoryLogger() {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...fields: unknown[]) => {
      // Like Powertools, the level and the message win over fields of the same name.
      lines.push({ ...(fields[0] as Record<string, unknown> | undefined), level, message: String(message) });
    };
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

/** Polls until `condition` holds; fails after 10 s so a broken worker fails instead of hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function harness(t: { teardown: (fn: () => Promise<void>) => void }, options: Partial<WorkerOptions> = {}) {
  const queue = new MemoryQueue();
  const outbox = new MemoryOutbox();
  const jobs = new MemoryJobs();
  const engine = new ControlledEngine();
  const { lines, logger } = memoryLogger();
  const worker = new Worker({
    concurrency: 4,
    // No heartbeat unless a test asks for one.
    heartbeatSeconds: 3600,
    shutdownGraceSeconds: 0,
    workerId: "test-worker",
    queue,
    outbox,
    engineFor: (application) => (application === "fake" ? engine : undefined),
    readJobs: jobs.readJobs,
    logger,
    ...options,
  });
  t.teardown(() => worker.stop());
  const line = (message: string, match: Record<string, unknown> = {}) =>
    lines.find((l) => l.message === message && Object.entries(match).every(([k, v]) => l[k] === v));
  const logged = async (message: string, match: Record<string, unknown> = {}): Promise<LogLine> => {
    await until(() => line(message, match) !== undefined, `log line "${message}" ${JSON.stringify(match)}`);
    return line(message, match)!;
  };
  return { queue, outbox, jobs, engine, lines, worker, line, logged };
}

const OUTPUT = { output: { y: 2 }, graphError: 0 };
const FINAL_EVENTS: string[] = [EventTypes.jobSuccess, EventTypes.jobError, EventTypes.jobTerminate];

test("a job runs to success: setup, running, success published, then its message deleted", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  t.deepEqual(w.engine.calls[0]?.job.input, { x: 1 });
  w.engine.calls[0]?.finish(OUTPUT);
  const done = await w.logged("job succeeded", { job: "j1" });
  t.is(done.attempt, 1);
  t.is(done.session, "s1");
  t.deepEqual(w.outbox.of("s1"), ["job.setup", "job.running", "job.success"]);
  t.is(w.outbox.events.find((e) => e.event === "job.success")?.outputJson, JSON.stringify(OUTPUT));
  t.deepEqual(w.queue.deleted, [delivery.id]);
  t.deepEqual(w.queue.released, []);
  t.is(w.worker.completed, 1);
});

test("a job the engine fails publishes job.error with its message and is deleted", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  w.engine.calls[0]?.fail(new EngineError("model", "diverged"));
  await w.logged("job failed", { job: "j1" });
  const error = w.outbox.events.find((e) => e.event === "job.error");
  t.is(error?.message, "diverged");
  t.is(error?.errorClass, "model");
  t.deepEqual(w.queue.deleted, [delivery.id]);
});

test("a duplicate delivery of one job has its own lease and controller", async (t) => {
  const w = harness(t, { heartbeatSeconds: 0.01 });
  w.jobs.put("s1", "j1");
  const first = w.queue.send("s1", "j1");
  const second = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 2, "both deliveries run");
  // Both arrived in one receive: the record was read with one key (BatchGetItem refuses twice).
  t.deepEqual(w.jobs.reads[0], [jobKey("s1", "j1")]);
  const [a, b] = w.engine.calls;
  t.not(a?.signal, b?.signal);
  // Each delivery's lease is extended under its own id; the kill check reads the job once.
  await until(() => w.queue.extended.some((ids) => ids.length === 2), "both leases extended");
  t.deepEqual(w.queue.extended.find((ids) => ids.length === 2)?.sort(), [first.id, second.id].sort());
  await until(() => w.jobs.reads.length > 1, "a kill check");
  for (const keys of w.jobs.reads) t.deepEqual(keys, [jobKey("s1", "j1")]);

  // Finishing the first deletes only the first; the second keeps running and keeps its lease.
  a?.finish(OUTPUT);
  await w.logged("job succeeded");
  t.deepEqual(w.queue.deleted, [first.id]);
  t.false(b?.signal.aborted);
  const seen = w.queue.extended.length;
  await until(() => w.queue.extended.length > seen, "a heartbeat after the first finished");
  t.deepEqual(w.queue.extended[seen], [second.id]);

  // The shutdown aborts the second alone, which is released, not deleted.
  await w.worker.stop();
  t.true(b?.signal.aborted);
  t.deepEqual(w.queue.released, [second.id]);
  t.deepEqual(w.queue.deleted, [first.id]);
  t.is((await w.logged("job released")).reason, "shutdown");
});

test("jobs of two sessions that share an Id have their own leases: killing one leaves the other", async (t) => {
  const w = harness(t, { heartbeatSeconds: 0.01 });
  w.jobs.put("s1", "shared");
  w.jobs.put("s2", "shared");
  const one = w.queue.send("s1", "shared");
  const two = w.queue.send("s2", "shared");
  w.worker.start();
  await until(() => w.engine.calls.length === 2, "both jobs run");
  w.jobs.setState("s1", "shared", "terminate");
  const killed = await w.logged("job killed");
  t.is(killed.session, "s1");
  t.is(w.engine.of("s1").signal.reason, "killed");
  t.false(w.engine.of("s2").signal.aborted);
  t.deepEqual(w.queue.deleted, [one.id]);

  w.engine.of("s2").finish(OUTPUT);
  t.is((await w.logged("job succeeded")).session, "s2");
  t.deepEqual(w.queue.deleted, [one.id, two.id]);
  t.deepEqual(w.outbox.of("s1"), ["job.setup", "job.running"]);
  t.deepEqual(w.outbox.of("s2"), ["job.setup", "job.running", "job.success"]);
});

test("a killed job has its message deleted and publishes no final event", async (t) => {
  const w = harness(t, { heartbeatSeconds: 0.01 });
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  w.jobs.setState("s1", "j1", "terminate");
  const killed = await w.logged("job killed", { job: "j1" });
  t.is(killed.attempt, 1);
  t.is(w.engine.calls[0]?.signal.reason, "killed");
  t.deepEqual(w.queue.deleted, [delivery.id]);
  t.deepEqual(w.queue.released, []);
  t.deepEqual(w.outbox.of("s1"), ["job.setup", "job.running"]);
  t.false(w.outbox.events.some((event) => FINAL_EVENTS.includes(event.event)));
});

test("a killed job whose delete fails is still killed, and the failure is logged", async (t) => {
  const w = harness(t, { heartbeatSeconds: 0.01 });
  w.jobs.put("s1", "j1");
  w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  w.queue.failDelete = true;
  w.jobs.setState("s1", "j1", "terminate");
  await w.logged("job killed", { job: "j1" });
  const warning = await w.logged("could not delete a killed job's message; it reappears when its lease ends");
  t.is(warning.error, "DeleteMessageBatch failed");
  t.deepEqual(w.queue.released, []);
});

test("a job whose final event cannot be published is released, not deleted", async (t) => {
  const w = harness(t);
  w.outbox.failAdd = (event) => (event.event === EventTypes.jobSuccess ? new Error("SNS down") : undefined);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  w.engine.calls[0]?.finish(OUTPUT);
  const released = await w.logged("job released", { job: "j1" });
  t.is(released.reason, "SNS down");
  t.deepEqual(w.queue.released, [delivery.id]);
  t.deepEqual(w.queue.deleted, []);
  t.is(w.line("job succeeded"), undefined);
});

test("a job that is not runnable is skipped and its message deleted", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "paused", "pause");
  const paused = w.queue.send("s1", "paused");
  const gone = w.queue.send("s1", "gone");
  w.worker.start();
  t.is((await w.logged("skipping a job that is not runnable", { job: "paused" })).state, "pause");
  t.is((await w.logged("skipping a job that is not runnable", { job: "gone" })).state, "deleted");
  await until(() => w.queue.deleted.length === 2, "both deleted");
  t.deepEqual(w.queue.deleted, [paused.id, gone.id]);
  t.is(w.engine.calls.length, 0);
});

test("a failed read of the received jobs releases them at once, and they run when received again", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "j1");
  w.jobs.failReads = 1;
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await w.logged("receiving jobs failed; backing off");
  t.deepEqual(w.queue.released, [delivery.id]);
  t.is(w.engine.calls.length, 0);
  w.queue.send("s1", "j1");
  await until(() => w.engine.calls.length === 1, "the job runs on its next delivery");
  t.is(w.engine.calls[0]?.job.jobId, "j1");
});

test("a receive that fails is logged and retried", async (t) => {
  const w = harness(t);
  w.queue.failReceives = 1;
  w.jobs.put("s1", "j1");
  w.queue.send("s1", "j1");
  w.worker.start();
  const backoff = await w.logged("receiving jobs failed; backing off");
  t.is(backoff.error, "SQS unreachable");
  await until(() => w.engine.calls.length === 1, "the job runs after the retry");
  t.true(w.queue.receives >= 2);
});

test("stop() called twice resolves both and runs its steps once", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  const first = w.worker.stop();
  const second = w.worker.stop();
  await Promise.all([first, second]);
  await w.worker.stop();
  t.is(w.outbox.flushes, 1);
  t.is(w.queue.flushes, 1);
  t.deepEqual(w.queue.released, [delivery.id]);
  t.is(w.lines.filter((l) => l.message === "job released").length, 1);
  t.false(w.lines.some((l) => l.level === "error"));
  // A stopped worker does not start again.
  w.worker.start();
  t.is(w.outbox.events.filter((e) => e.event === EventTypes.consumerRunning).length, 1);
});

test("stop() runs every step when one fails, and logs each failure", async (t) => {
  const w = harness(t);
  w.outbox.failFlush = true;
  w.queue.failFlush = true;
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  await t.notThrowsAsync(w.worker.stop());
  t.deepEqual(w.queue.released, [delivery.id]);
  t.is(w.outbox.flushes, 1);
  t.is(w.queue.flushes, 1, "the deletes are flushed although the outbox flush failed");
  t.deepEqual(
    w.lines.filter((l) => l.message === "a shutdown step failed").map((l) => [l.step, l.error]),
    [
      ["flush the outbox", "the outbox could not be flushed"],
      ["flush the deletes", "the deletes could not be flushed"],
    ],
  );
});

test("stop() gives the jobs in hand their grace period to finish", async (t) => {
  const w = harness(t, { shutdownGraceSeconds: 60 });
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  const stopped = w.worker.stop();
  t.false(w.engine.calls[0]?.signal.aborted);
  w.engine.calls[0]?.finish(OUTPUT);
  await stopped;
  t.deepEqual(w.queue.deleted, [delivery.id]);
  t.deepEqual(w.queue.released, []);
  t.false(w.engine.calls[0]?.signal.aborted);
});
