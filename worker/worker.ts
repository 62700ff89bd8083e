/**
 * @module worker
 * The worker loop. It long-polls its pool's job queue for up to as many jobs as it has free
 * slots (at most 10), reads their records in one BatchGet, and hands the runnable ones to
 * `runJob` (worker/run-job.ts) with bounded concurrency; receive failures back off
 * exponentially. A message that is not a job, or whose job is paused, terminal or gone, is not
 * run; its message is deleted (start sends a new one for a paused job).
 *
 * One run at a time: a delivery of a job this worker already runs (under another delivery, or
 * twice in one receive) is not run, nor is one whose record shows another worker's live attempt
 * (worker/lease.ts defines "live"). Both are requeued, spending no delivery, to come back when
 * that attempt's lease ends (worker/release.ts): if the attempt finishes, the copy finds the job
 * terminal and is deleted; if it dies, the copy runs the job.
 *
 * stop() is the shutdown: stop taking jobs, give the jobs in hand the grace period, abort and
 * release the rest, stop the heartbeats, flush the outbox and the deletes. Every step runs even
 * when an earlier one failed (failures are logged), and a second call only waits for the first.
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { newEvent } from "../core/events/event-publisher.ts";
import { EventTypes } from "../core/events/events.ts";
import { parseEvent } from "../core/events/parse-event.ts";
import type { JobItem } from "../core/jobs/job.ts";
import { getJobsByKey, jobKey } from "../core/jobs/job-store.ts";
import { logger as processLogger } from "../core/observability.ts";
import type { Engine } from "./engines/engine.ts";
import { type Delivery, type JobQueue, MAX_RECEIVE } from "./job-queue.ts";
import { LeaseKeeper, liveAttempt, type ReadJobs } from "./lease.ts";
import { type ReleaseReason, ReleaseReasons, Releaser } from "./release.ts";
import { type JobRunContext, type Outbox, runJob, SHUTDOWN, type WorkerLogger } from "./run-job.ts";
import type { StagedFiles } from "./staged-files.ts";
import type { XRaySegments } from "./xray-segments.ts";

const RUNNABLE_STATES = new Set(["create", "submit", "setup", "running"]);

export interface WorkerOptions {
  concurrency: number;
  heartbeatSeconds: number;
  /** The queue's lease (visibility timeout) in seconds, as the queue gives it; default 30. */
  leaseSeconds?: number;
  shutdownGraceSeconds: number;
  workerId?: string;
  /** The pool's job queue (worker/main.ts: SQS). */
  queue: JobQueue;
  /** Engine for an application (undefined: this worker cannot run it). */
  engineFor: (application: string) => Engine | undefined;
  /** Publishes events in batches (SNS PublishBatch). */
  outbox: Outbox;
  stagedFiles?: Pick<StagedFiles, "fetch">;
  /** Reads job records (default: the jobs table, one BatchGet per 100). */
  readJobs?: ReadJobs;
  /** Default: the process's logger (core/observability.ts). */
  logger?: WorkerLogger;
  /** Where each run's X-Ray segment goes (worker/xray-segments.ts), when a daemon is there. */
  segments?: Pick<XRaySegments, "record">;
}

interface Run {
  /** The job's key (jobKey): one run per job at a time. */
  job: string;
  controller: AbortController;
  /** Settles when the run has ended in its outcome; never rejects. */
  done: Promise<void>;
}

export class Worker {
  readonly id: string;
  /** Jobs this worker finished (any outcome), for tests and logs. */
  completed = 0;
  private started = false;
  private running = false;
  private stopping: Promise<void> | undefined;
  /** Runs in hand, by delivery id. */
  private readonly runs = new Map<string, Run>();
  private readonly queue: JobQueue;
  private readonly readJobs: ReadJobs;
  private readonly log: WorkerLogger;
  private readonly leases: LeaseKeeper;
  private readonly releaser: Releaser;
  private readonly leaseSeconds: number;
  private readonly context: JobRunContext;
  private readonly poll = new AbortController();
  private readonly stopped = new Promise<void>((resolve) =>
    this.poll.signal.addEventListener("abort", () => resolve()),
  );
  private loopDone: Promise<void> | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.workerId ?? `${hostname()}-${process.pid}`;
    this.queue = options.queue;
    this.readJobs = options.readJobs ?? getJobsByKey;
    this.log = options.logger ?? processLogger;
    this.leaseSeconds = options.leaseSeconds ?? 30;
    this.leases = new LeaseKeeper({
      queue: this.queue,
      readJobs: this.readJobs,
      outbox: options.outbox,
      heartbeatSeconds: options.heartbeatSeconds,
      leaseSeconds: this.leaseSeconds,
      log: this.log,
    });
    this.releaser = new Releaser(this.queue, this.log);
    this.context = {
      workerId: this.id,
      queue: this.queue,
      outbox: options.outbox,
      leases: this.leases,
      releaser: this.releaser,
      leaseSeconds: this.leaseSeconds,
      engineFor: options.engineFor,
      stagedFiles: options.stagedFiles,
      logger: this.log,
      segments: options.segments,
    };
  }

  /** This worker's releases so far, by reason (worker/release.ts). */
  releaseCounts(): Record<ReleaseReason, number> {
    return this.releaser.releaseCounts();
  }

  /** Starts the heartbeats and the loop. Once only: a stopped worker stays stopped. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.running = true;
    this.leases.start();
    this.options.outbox
      .add(newEvent({ event: EventTypes.consumerRunning, username: "-", session: "-", consumer: this.id }))
      .catch(() => undefined);
    this.loopDone = this.loop();
  }

  /**
   * Stops taking jobs, gives the jobs in hand the grace period to finish, then aborts the rest
   * and releases their messages so another worker runs them. Idempotent: a second call waits for
   * the first's outcome. Never rejects; a step that fails is logged and the next steps still run.
   */
  /** Jobs in hand now (running, or given the grace period in a stop). */
  get inHand(): number {
    return this.runs.size;
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.poll.abort();
    await this.step("stop taking jobs", async () => this.loopDone);
    await this.step("give the jobs in hand their grace period", () => this.grace());
    await this.step("abort and release the jobs still in hand", () => this.abortRuns());
    await this.step("stop the heartbeats", () => this.leases.stop());
    await this.step("flush the outbox", () => this.options.outbox.flush());
    await this.step("flush the deletes", () => this.queue.flush());
  }

  private async step(name: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.log.error("a shutdown step failed", {
        step: name,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Resolves when every run in hand has ended, or when the grace period is over. */
  private async grace(): Promise<void> {
    if (this.runs.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const over = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.shutdownGraceSeconds * 1000);
    });
    try {
      await Promise.race([Promise.all([...this.runs.values()].map((run) => run.done)), over]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Aborts the runs still in hand (each then releases its message) and waits for them. */
  private async abortRuns(): Promise<void> {
    const rest = [...this.runs.values()];
    for (const run of rest) run.controller.abort(SHUTDOWN);
    await Promise.all(rest.map((run) => run.done));
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.options.concurrency - this.runs.size;
      if (free <= 0) {
        // Wait for a free slot, or for stop(): a full worker must still notice shutdown at once.
        await Promise.race([...[...this.runs.values()].map((run) => run.done), this.stopped]);
        continue;
      }
      try {
        // The leases of what this receive returns end no sooner than a lease from now.
        const leaseUntil = Date.now() + this.leaseSeconds * 1000;
        const deliveries = await this.queue.receive(Math.min(MAX_RECEIVE, free), this.poll.signal);
        failures = 0;
        if (deliveries.length > 0) await this.dispatch(deliveries, leaseUntil);
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        const wait = Math.min(30_000, 500 * 2 ** failures);
        this.log.warn("receiving jobs failed; backing off", {
          error: error instanceof Error ? error.message : String(error),
          waitMs: wait,
        });
        // stop() aborts the poll signal: a worker backing off still stops at once.
        await sleep(wait, undefined, { signal: this.poll.signal }).catch(() => undefined);
      }
    }
  }

  /** Reads the deliveries' jobs and starts a run for each runnable one. */
  private async dispatch(received: Delivery[], leaseUntil: number): Promise<void> {
    const deliveries: { delivery: Delivery; session: string; job: string }[] = [];
    for (const message of received) {
      let delivery = message;
      try {
        const event = parseEvent(delivery.body);
        if (event.event !== EventTypes.jobSubmit || !event.job)
          throw new Error(`not a job.submit event: ${event.event}`);
        // The start call's trace, carried in the event, wins over the queue's own.
        const trace = event.trace ?? delivery.trace;
        if (trace) delivery = { ...delivery, trace };
        deliveries.push({ delivery, session: event.session, job: event.job });
      } catch (error) {
        // Not a job at all: nothing could ever run it.
        this.log.error("dropping a message that is not a job", {
          error: error instanceof Error ? error.message : String(error),
        });
        await this.queue.delete(delivery);
      }
    }
    if (deliveries.length === 0) return;
    // One key per job: a receive may hold two deliveries of one job, and BatchGetItem refuses
    // duplicate keys.
    const keys = new Map(
      deliveries.map(({ session, job }) => [jobKey(session, job), { sessionId: session, jobId: job }]),
    );
    let records: Map<string, JobItem>;
    try {
      records = await this.readJobs([...keys.values()]);
    } catch (error) {
      // A transient read failure: hand the jobs back after a backoff instead of holding them a
      // lease, spending none of their deliveries.
      await Promise.all(
        deliveries.map(({ delivery }) => this.releaser.release(delivery, ReleaseReasons.transient)),
      );
      throw error;
    }
    const now = Date.now();
    for (const { delivery, session, job: jobId } of deliveries) {
      const job = records.get(jobKey(session, jobId));
      if (!job || !RUNNABLE_STATES.has(job.State)) {
        this.log.info("skipping a job that is not runnable", {
          session,
          job: jobId,
          state: job?.State ?? "deleted",
        });
        await this.queue.delete(delivery);
        continue;
      }
      const key = jobKey(session, jobId);
      if ([...this.runs.values()].some((run) => run.job === key)) {
        // A duplicate of a job in hand: back after a lease, by when this run has ended.
        await this.defer(delivery, job, ReleaseReasons.held, this.leaseSeconds);
        continue;
      }
      if (liveAttempt(job, this.id, now)) {
        // Another worker's attempt is live: back when its lease ends (and a second more).
        const seconds = Math.ceil((Date.parse(job.LeaseUntil ?? "") - now) / 1000) + 1;
        await this.defer(delivery, job, ReleaseReasons.liveAttempt, seconds);
        continue;
      }
      const controller = new AbortController();
      const done = runJob(this.context, delivery, job, controller, leaseUntil)
        .then(
          () => undefined,
          // runJob never rejects; if it ever did, say so rather than lose the rejection.
          (error: unknown) =>
            this.log.error("a job run ended without an outcome", {
              session,
              job: jobId,
              error: error instanceof Error ? error.message : String(error),
            }),
        )
        .finally(() => {
          this.runs.delete(delivery.id);
          this.completed += 1;
        });
      this.runs.set(delivery.id, { job: key, controller, done });
    }
  }

  /** Requeues a delivery that is not run now (spending none of its deliveries) and says why. */
  private async defer(
    delivery: Delivery,
    job: JobItem,
    reason: ReleaseReason,
    seconds: number,
  ): Promise<void> {
    const released = await this.releaser.release(delivery, reason, seconds);
    this.log.info("job not run: another attempt holds it", {
      session: job.SessionId,
      job: job.JobId,
      state: job.State,
      holder: job.ConsumerId,
      leaseUntil: job.LeaseUntil,
      attempt: delivery.attempt,
      ...released,
    });
  }
}
