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
import { MAX_TRANSIENT_RELEASES } from "../../core/limits.ts";
import { type Engine, EngineError, type EngineJob } from "../../worker/engines/engine.ts";
import type { Delivery, JobQueue } from "../../worker/job-queue.ts";
import type { ReadJobs } from "../../worker/lease.ts";
import { Worker, type WorkerOptions } from "../../worker/worker.ts";
import { makeJobItem } from "../helpers/factories.ts";

/** A requeue: the delivery handed back, and the fresh copy that was put on the queue. */
interface Requeued {
  id: string;
  delaySeconds: number;
  releases: number;
  copy: Delivery;
}

/**
 * A job queue in memory: records what the worker deleted, released (plainly: the delivery is
 * spent), requeued (a fresh copy, held back until `deliverCopies`) and extended.
 */
class MemoryQueue implements JobQueue {
  readonly deleted: string[] = [];
  readonly released: string[] = [];
  readonly releaseDelays: number[] = [];
  readonly requeued: Requeued[] = [];
  /** Delivery ids of each extension call, in order. */
  readonly extended: string[][] = [];
  flushes = 0;
  receives = 0;
  failReceives = 0;
  failDelete = false;
  failFlush = false;
  failRequeue = false;
  /** Extensions that never settle, not even when their signal aborts (a hung call). */
  hangExtends = 0;
  private readonly waiting: Delivery[] = [];
  private readonly copies: Delivery[] = [];
  private wake: (() => void) | undefined;
  private next = 0;

  /** Makes the requeued copies visible (as SQS does once their delay is over). */
  deliverCopies(): void {
    this.waiting.push(...this.copies.splice(0));
    this.wake?.();
  }

  send(session: string, job: string, releases?: number, trace?: string): Delivery {
    const body = JSON.stringify(
      newEvent({
        event: EventTypes.jobSubmit,
        username: "alice",
        session,
        job,
        application: "fake",
        simulation: "sim",
        ...(trace ? { trace } : {}),
      }),
    );
    const delivery = { id: `delivery-${++this.next}`, body, attempt: 1, ...(releases ? { releases } : {}) };
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

  async release(delivery: Delivery, delaySeconds = 0): Promise<void> {
    this.released.push(delivery.id);
    this.releaseDelays.push(delaySeconds);
  }

  async requeue(delivery: Delivery, options: { delaySeconds: number; releases: number }): Promise<void> {
    if (this.failRequeue) throw new Error("SendMessage throttled");
    const copy = {
      id: `delivery-${++this.next}`,
      body: delivery.body,
      attempt: 1,
      releases: options.releases,
    };
    this.copies.push(copy);
    this.requeued.push({ id: delivery.id, ...options, copy });
  }

  async extend(deliveries: readonly Delivery[]): Promise<void> {
    if (this.hangExtends > 0) {
      this.hangExtends -= 1;
      return new Promise(() => undefined);
    }
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

  put(session: string, job: string, state: JobState = "submit", fields: Partial<JobItem> = {}): void {
    this.records.set(
      jobKey(session, job),
      makeJobItem({
        SessionId: session,
        JobId: job,
        Simulation: "sim",
        Application: "fake",
        InputJson: JSON.stringify({ x: 1 }),
        State: state,
        ...fields,
      }),
    );
  }

  /** Reads that fail before the next one succeeds. */
  failReads = 0;
  /** Kill-check reads (the heartbeat's) that never settle, not even when their signal aborts. */
  hangKillChecks = 0;

  update(session: string, job: string, fields: Partial<JobItem>): void {
    const record = this.records.get(jobKey(session, job));
    if (record) Object.assign(record, fields);
  }

  setState(session: string, job: string, state: JobState): void {
    const record = this.records.get(jobKey(session, job));
    if (record) record.State = state;
  }

  readonly readJobs: ReadJobs = async (keys, attributes) => {
    if (attributes && this.hangKillChecks > 0) {
      this.hangKillChecks -= 1;
      return new Promise(() => undefined);
    }
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
    leaseSeconds: 30,
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

test("a duplicate delivery of a job in hand is not run: it comes back after a lease, spending no delivery", async (t) => {
  const w = harness(t, { heartbeatSeconds: 0.01 });
  w.jobs.put("s1", "j1");
  const first = w.queue.send("s1", "j1");
  const second = w.queue.send("s1", "j1");
  w.worker.start();
  // Both arrived in one receive: the record was read with one key (BatchGetItem refuses twice).
  await w.logged("job not run: another attempt holds it", { job: "j1" });
  t.deepEqual(w.jobs.reads[0], [jobKey("s1", "j1")]);
  await until(() => w.engine.calls.length === 1, "the first delivery runs");
  const [requeue] = w.queue.requeued;
  t.is(requeue?.id, second.id);
  t.is(requeue?.delaySeconds, 30, "back after a lease");
  t.is(requeue?.releases, 0, "a duplicate is no transient failure: not counted");
  t.deepEqual(w.queue.released, [], "no plain release: no delivery spent");
  t.is(w.line("job not run: another attempt holds it")?.reason, "held");
  // Only the run's delivery has a lease.
  await until(() => w.queue.extended.length > 0, "a heartbeat");
  t.deepEqual(w.queue.extended[0], [first.id]);

  // Another delivery while the job runs (its lease lapsed, or a duplicate job.submit): not run.
  const third = w.queue.send("s1", "j1");
  await until(() => w.queue.requeued.length === 2, "the third requeued");
  t.is(w.queue.requeued[1]?.id, third.id);
  t.is(w.engine.calls.length, 1);

  // The run ends; the copies then find the job finished and are deleted, never run.
  w.engine.calls[0]?.finish(OUTPUT);
  await w.logged("job succeeded");
  w.jobs.setState("s1", "j1", "success");
  w.queue.deliverCopies();
  await until(() => w.queue.deleted.length === 3, "the copies deleted");
  t.is(w.engine.calls.length, 1);
  t.deepEqual(w.worker.releaseCounts(), { shutdown: 0, transient: 0, "live-attempt": 0, held: 2 });
});

test("a job whose record shows another worker's live attempt is not run until that lease ends", async (t) => {
  const w = harness(t);
  const leaseUntil = new Date(Date.now() + 60_000).toISOString();
  w.jobs.put("s1", "j1", "running", { ConsumerId: "other-worker", LeaseUntil: leaseUntil });
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  const line = await w.logged("job not run: another attempt holds it", { job: "j1" });
  t.is(line.reason, "live-attempt");
  t.is(line.holder, "other-worker");
  t.is(line.spendsDelivery, false);
  t.is(w.engine.calls.length, 0);
  const [requeue] = w.queue.requeued;
  t.is(requeue?.id, delivery.id);
  // Back about when that lease ends: 60 s from when the record was read, and a second more.
  t.true(requeue!.delaySeconds >= 55 && requeue!.delaySeconds <= 61, `delay ${requeue?.delaySeconds}`);
  t.is(requeue?.releases, 0);
  t.deepEqual(w.queue.released, []);

  // That attempt died: its lease ran out without a renewal. The copy runs the job.
  w.jobs.update("s1", "j1", { LeaseUntil: new Date(Date.now() - 1000).toISOString() });
  w.queue.deliverCopies();
  await until(() => w.engine.calls.length === 1, "the copy runs");
  t.is(w.engine.calls[0]?.job.jobId, "j1");
});

test("a record of this worker's own id, or of an ended lease, or of no lease, is no live attempt", async (t) => {
  const w = harness(t);
  const ahead = new Date(Date.now() + 60_000).toISOString();
  // A previous process with the same WORKER_ID: it is gone, since this one does not hold the job.
  w.jobs.put("s1", "mine", "running", { ConsumerId: "test-worker", LeaseUntil: ahead });
  w.jobs.put("s1", "ended", "running", {
    ConsumerId: "other-worker",
    LeaseUntil: new Date(Date.now() - 1).toISOString(),
  });
  w.jobs.put("s1", "legacy", "setup", { ConsumerId: "other-worker" });
  for (const job of ["mine", "ended", "legacy"]) w.queue.send("s1", job);
  w.worker.start();
  await until(() => w.engine.calls.length === 3, "all three run");
  t.deepEqual(w.queue.requeued, []);
});

test("setup and running carry the attempt's lease; a long run renews it every half lease, a short one never", async (t) => {
  const w = harness(t, { heartbeatSeconds: 0.01, leaseSeconds: 0.4 });
  w.jobs.put("s1", "long");
  const asked = Date.now();
  w.queue.send("s1", "long");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  const setup = w.outbox.events.find((event) => event.event === EventTypes.jobSetup)!;
  const running = w.outbox.events.find((event) => event.event === EventTypes.jobRunning)!;
  // The lease ends no sooner than a lease after the receive was asked for.
  t.true(Date.parse(setup.leaseUntil!) >= asked + 400);
  t.true(Date.parse(running.leaseUntil!) >= Date.parse(setup.leaseUntil!));
  const heartbeats = () => w.outbox.events.filter((event) => event.event === EventTypes.jobHeartbeat);
  await until(() => heartbeats().length >= 3, "three heartbeat events");
  w.engine.calls[0]?.finish(OUTPUT);
  await w.logged("job succeeded");
  const beats = heartbeats();
  for (const beat of beats) {
    t.is(beat.job, "long");
    t.is(beat.consumer, "test-worker");
    t.is(beat.username, "alice");
  }
  // Each renews the lease further, and only once the one announced before would end within half
  // a lease (200 ms): about every half lease, not on every beat.
  const announced = [running, ...beats];
  for (let i = 1; i < announced.length; i++) {
    const before = Date.parse(announced[i - 1]!.leaseUntil!);
    t.true(Date.parse(announced[i]!.leaseUntil!) > before);
    t.true(before - Date.parse(announced[i]!.time) < 200, `heartbeat ${i} came early`);
  }
  t.true(w.queue.extended.length > beats.length, "the lease was extended more often than announced");

  // A job shorter than half a lease announces nothing beyond setup and running.
  const v = harness(t, { heartbeatSeconds: 0.01, leaseSeconds: 30 });
  v.jobs.put("s2", "short");
  v.queue.send("s2", "short");
  v.worker.start();
  await until(() => v.engine.calls.length === 1, "the engine runs");
  await until(() => v.queue.extended.length >= 3, "a few heartbeats");
  v.engine.calls[0]?.finish(OUTPUT);
  await v.logged("job succeeded");
  t.deepEqual(v.outbox.of("s2"), ["job.setup", "job.running", "job.success"]);
});

test("a job handed back ends its lease first, so that the next worker need not wait for it to run out", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  await w.worker.stop();
  t.deepEqual(w.outbox.of("s1"), ["job.setup", "job.running", "job.heartbeat"]);
  const last = w.outbox.events.at(-1)!;
  t.is(last.leaseUntil, last.time, "a lease that ends at once");
  t.is(last.consumer, "test-worker");
  t.deepEqual(
    w.queue.requeued.map((requeue) => requeue.id),
    [delivery.id],
  );
});

test("a hung lease extension or kill check fails at its deadline, and later heartbeats still run", async (t) => {
  // A lease of 0.3 s gives each heartbeat call a deadline of 0.1 s.
  const w = harness(t, { heartbeatSeconds: 0.01, leaseSeconds: 0.3 });
  w.queue.hangExtends = 1;
  w.jobs.hangKillChecks = 1;
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  const timedOut = await w.logged("heartbeat failed", { step: "extending the leases" });
  t.regex(String(timedOut.error), /took longer than 100 ms/);
  t.regex(String((await w.logged("heartbeat failed", { step: "the kill check" })).error), /took longer/);
  // The next heartbeats extend the lease and check for kills as usual.
  await until(() => w.queue.extended.length >= 2, "later extensions");
  t.deepEqual(w.queue.extended[0], [delivery.id]);
  w.jobs.setState("s1", "j1", "terminate");
  await w.logged("job killed", { job: "j1" });
});

test("a transient failure requeues the job after a backoff, counting it in the message, spending no delivery", async (t) => {
  const w = harness(t);
  w.outbox.failAdd = (event) =>
    event.event === EventTypes.jobSetup ? new Error("SNS throttled the publish") : undefined;
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1", 3);
  w.worker.start();
  const released = await w.logged("job released", { job: "j1" });
  t.is(released.reason, "transient");
  t.is(released.error, "SNS throttled the publish");
  t.is(released.transientReleases, 4);
  t.is(released.spendsDelivery, false);
  // 2^(3+1) s, up to half again for jitter.
  t.true((released.delaySeconds as number) >= 16 && (released.delaySeconds as number) <= 24);
  t.deepEqual(released.releaseCounts, { shutdown: 0, transient: 1, "live-attempt": 0, held: 0 });
  t.deepEqual(
    w.queue.requeued.map(({ id, releases, delaySeconds }) => ({ id, releases, delaySeconds })),
    [{ id: delivery.id, releases: 4, delaySeconds: released.delaySeconds as number }],
  );
  t.deepEqual(w.queue.released, []);
  t.deepEqual(w.queue.deleted, []);
});

test("past the most transient releases, a release is plain and spends a delivery, and says so", async (t) => {
  const w = harness(t);
  w.outbox.failAdd = (event) => (event.event === EventTypes.jobSetup ? new Error("SNS down") : undefined);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1", MAX_TRANSIENT_RELEASES);
  w.worker.start();
  const released = await w.logged("job released", { job: "j1" });
  t.is(released.spendsDelivery, true);
  t.truthy(w.line("a job was released transiently too often; this release spends one of its deliveries"));
  t.deepEqual(w.queue.released, [delivery.id]);
  t.deepEqual(w.queue.requeued, []);
  t.is(w.queue.releaseDelays[0], released.delaySeconds as number);
});

test("a copy that cannot be sent falls back to a plain release, so the job is never lost", async (t) => {
  const w = harness(t);
  w.queue.failRequeue = true;
  w.outbox.failAdd = (event) => (event.event === EventTypes.jobSetup ? new Error("SNS down") : undefined);
  w.jobs.put("s1", "j1");
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  const released = await w.logged("job released", { job: "j1" });
  t.is(released.spendsDelivery, true);
  t.is(
    (await w.logged("could not requeue a job's message; releasing it plainly, which spends a delivery"))
      .error,
    "SendMessage throttled",
  );
  t.deepEqual(w.queue.released, [delivery.id]);
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
  t.is(released.reason, "transient");
  t.is(released.error, "SNS down");
  t.deepEqual(
    w.queue.requeued.map((requeue) => requeue.id),
    [delivery.id],
  );
  t.deepEqual(w.queue.released, []);
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

test("a failed read of the received jobs requeues them after a backoff, and they run when received again", async (t) => {
  const w = harness(t);
  w.jobs.put("s1", "j1");
  w.jobs.failReads = 1;
  const delivery = w.queue.send("s1", "j1");
  w.worker.start();
  await w.logged("receiving jobs failed; backing off");
  await until(() => w.queue.requeued.length === 1, "requeued");
  const [requeue] = w.queue.requeued;
  t.is(requeue?.id, delivery.id);
  t.is(requeue?.releases, 1);
  t.true(requeue!.delaySeconds >= 2 && requeue!.delaySeconds <= 3, `delay ${requeue?.delaySeconds}`);
  t.deepEqual(w.queue.released, [], "a throttled read spends no delivery");
  t.is(w.engine.calls.length, 0);
  w.queue.deliverCopies();
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
  // A shutdown is no death: requeued at once, counted in the message, no delivery spent.
  t.deepEqual(
    w.queue.requeued.map(({ id, delaySeconds, releases }) => ({ id, delaySeconds, releases })),
    [{ id: delivery.id, delaySeconds: 0, releases: 1 }],
  );
  t.deepEqual(w.queue.released, []);
  t.is(w.lines.filter((l) => l.message === "job released").length, 1);
  t.is(w.line("job released")?.reason, "shutdown");
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
  t.deepEqual(
    w.queue.requeued.map((requeue) => requeue.id),
    [delivery.id],
  );
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

test("the trace header a job.submit carries is logged with the job, repeated on its events, and parents its segment", async (t) => {
  const trace = "Root=1-6a1b2c3d-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
  const segments: { trace: string | undefined; outcome: string }[] = [];
  const w = harness(t, { segments: { record: (run) => segments.push(run) } });
  w.jobs.put("s1", "j1");
  w.queue.send("s1", "j1", undefined, trace);
  w.worker.start();
  await until(() => w.engine.calls.length === 1, "the engine runs");
  w.engine.calls[0]?.finish(OUTPUT);
  const done = await w.logged("job succeeded", { job: "j1" });
  t.is(done.trace, trace);
  t.true(w.outbox.events.filter((e) => e.job === "j1").every((e) => e.trace === trace));
  t.deepEqual(
    segments.map(({ trace, outcome }) => ({ trace, outcome })),
    [{ trace, outcome: "succeeded" }],
  );
});
