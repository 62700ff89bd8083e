/**
 * @module run-job
 * The run of one job, from its delivery accepted for running to its message deleted or released:
 *
 *   hold the lease → publish setup → fetch staged files → publish running → engine
 *   → publish success | error → delete the message (only now: a crash before this makes the
 *     queue deliver the job again)
 *
 * Outcomes are kept apart: the job failed (EngineError → `job.error`, message deleted); the job
 * was killed (aborted "killed" on a heartbeat → no event, the processor already ended it;
 * message deleted); the infrastructure failed or the worker is shutting down (no event, message
 * released for another worker: requeued, so that it spends none of the job's deliveries, with a
 * backoff after a failure; worker/release.ts). A run never rejects: it ends in exactly one
 * outcome, logged.
 *
 * setup and running carry the attempt's lease (`leaseUntil`), and the lease keeper renews it
 * with a job.heartbeat every half lease while the run lasts (worker/lease.ts: a live attempt).
 * The worker's outbox holds setup and running back briefly (worker/progress-outbox.ts), so a
 * job that ends soon publishes only its end, which repeats both times.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import { newEvent } from "../core/events/event-publisher.ts";
import { EventTypes, type FoqusEvent } from "../core/events/events.ts";
import type { JobItem } from "../core/jobs/job.ts";
import { MAX_INLINE_OUTPUT_BYTES } from "../core/limits.ts";
import { outputKey, putOutput } from "../core/results/output-store.ts";
import type { Batcher } from "./batcher.ts";
import { type Engine, EngineError } from "./engines/engine.ts";
import type { Delivery, JobQueue } from "./job-queue.ts";
import { KILLED, type Lease, type LeaseKeeper, withDeadline } from "./lease.ts";
import { ReleaseReasons, type Releaser } from "./release.ts";
import type { StagedFiles } from "./staged-files.ts";
import type { XRaySegments } from "./xray-segments.ts";

/** Abort reason of the runs still in hand when the shutdown grace is over. */
export const SHUTDOWN = "shutdown";

/** Publishes events in batches (SNS PublishBatch through a Batcher). */
export type Outbox = Pick<Batcher<FoqusEvent>, "add" | "flush">;
export type WorkerLogger = Pick<Logger, "info" | "warn" | "error">;
export type JobOutcome = "succeeded" | "failed" | "killed" | "released";

/** What a run needs from its worker. */
export interface JobRunContext {
  workerId: string;
  queue: JobQueue;
  outbox: Outbox;
  leases: LeaseKeeper;
  releaser: Releaser;
  /** The queue's lease, in seconds. */
  leaseSeconds: number;
  /** Engine for an application (undefined: this worker cannot run it). */
  engineFor: (application: string) => Engine | undefined;
  stagedFiles?: Pick<StagedFiles, "fetch"> | undefined;
  logger: WorkerLogger;
  segments?: Pick<XRaySegments, "record"> | undefined;
}

type LogKeys = { session: string; job: string; application: string; username: string; trace?: string };

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs the job of `delivery` (its record `job`, already found runnable) to one outcome.
 * `controller` aborts the run: with "killed" from the heartbeat, with "shutdown" from stop().
 * `leaseUntil` (ms) is when the delivery's lease ends at the earliest: when its receive was
 * asked for, plus the lease.
 */
export async function runJob(
  context: JobRunContext,
  delivery: Delivery,
  job: JobItem,
  controller: AbortController,
  leaseUntil: number = Date.now() + context.leaseSeconds * 1000,
): Promise<JobOutcome> {
  const { queue, outbox, leases, logger } = context;
  const started = Date.now();
  const keys: LogKeys = {
    session: job.SessionId,
    job: job.JobId,
    application: job.Application,
    username: job.Username,
    ...(delivery.trace ? { trace: delivery.trace } : {}),
  };
  const outcome = (name: JobOutcome, extra: Record<string, unknown> = {}): JobOutcome => {
    const ended = Date.now();
    logger.info(`job ${name}`, {
      ...keys,
      durationMs: ended - started,
      attempt: delivery.attempt,
      ...extra,
    });
    context.segments?.record({
      trace: delivery.trace,
      start: started,
      end: ended,
      outcome: name,
      annotations: {
        session: keys.session,
        job: keys.job,
        application: keys.application,
        attempt: delivery.attempt,
      },
    });
    return name;
  };

  // ── Nothing is lost: from this hold until the end of the `finally` below, the delivery ends
  // either finished (final event published, then message deleted; a killed job is deleted
  // without an event, the processor already ended it) or released (requeued, or at worst made
  // visible again, so another worker takes it). Every path reaches one of them, and nothing
  // throws out of this region. ──
  const lease: Lease = { delivery, sessionId: job.SessionId, jobId: job.JobId, controller, leaseUntil };
  leases.hold(lease);
  try {
    const final = await attempt(context, lease, job, keys);
    await outbox.add(final);
    await queue.delete(delivery);
    return outcome(
      final.event === EventTypes.jobSuccess ? "succeeded" : "failed",
      // `message` is the log line's own key in Powertools: the job's message goes beside it.
      final.message ? { errorMessage: final.message } : {},
    );
  } catch (error) {
    if (controller.signal.reason === KILLED) {
      try {
        await queue.delete(delivery);
      } catch (deleteError) {
        logger.warn("could not delete a killed job's message; it reappears when its lease ends", {
          ...keys,
          error: errorMessage(deleteError),
        });
      }
      return outcome("killed");
    }
    // Shutdown or an infrastructure failure: another delivery will run the job. The lease is
    // dropped first, so that no heartbeat extends it again after the release.
    leases.forget(delivery);
    await leases.settled();
    await endLease(context, lease, keys);
    const reason = controller.signal.aborted ? ReleaseReasons.shutdown : ReleaseReasons.transient;
    const released = await context.releaser.release(delivery, reason);
    return outcome("released", { ...released, error: errorMessage(error) });
  } finally {
    leases.forget(delivery);
  }
  // ── End of the region. ──
}

/** How long a released attempt waits for its last heartbeat to go out before it lets go anyway. */
const END_LEASE_TIMEOUT_MS = 5000;

/**
 * Says that an attempt which announced its lease (setup was published) is over: a last
 * job.heartbeat whose lease ends at its own time, so its record no longer shows it live and the
 * next worker runs the job at once. If it cannot be published, others wait for the lease to run out.
 */
async function endLease(context: JobRunContext, lease: Lease, keys: LogKeys): Promise<void> {
  if (!lease.announced) return;
  const now = new Date().toISOString();
  const last = newEvent({
    ...lease.announced.fields,
    event: EventTypes.jobHeartbeat,
    time: now,
    leaseUntil: now,
  });
  try {
    await withDeadline(END_LEASE_TIMEOUT_MS, "ending the lease", () => context.outbox.add(last));
  } catch (error) {
    context.logger.warn("could not end a released job's lease; other workers wait for it to run out", {
      ...keys,
      error: errorMessage(error),
    });
  }
}

/** Publishes setup and running, runs the engine and returns the final event (not yet published). */
async function attempt(
  context: JobRunContext,
  lease: Lease,
  job: JobItem,
  keys: LogKeys,
): Promise<FoqusEvent> {
  const { delivery } = lease;
  const { signal } = lease.controller;
  const { outbox } = context;
  const engine = context.engineFor(job.Application);
  // Names this attempt's output object: a duplicate run of the job writes its own.
  const attemptId = randomUUID();
  const base = {
    username: job.Username,
    session: job.SessionId,
    job: job.JobId,
    application: job.Application,
    simulation: job.Simulation,
    consumer: context.workerId,
    ...(delivery.trace ? { trace: delivery.trace } : {}),
  };
  const setupLease = lease.leaseUntil;
  const setup = newEvent({
    ...base,
    event: EventTypes.jobSetup,
    leaseUntil: new Date(setupLease).toISOString(),
  });
  await outbox.add(setup);
  // From now on the lease keeper renews the announced lease while the attempt lasts.
  lease.announced = { fields: base, until: setupLease };
  const stamps: Partial<FoqusEvent> = {
    setupTime: setup.time,
    ...(job.Submit ? { submitTime: job.Submit } : {}),
  };
  const stagedFiles =
    engine && context.stagedFiles ? await context.stagedFiles.fetch(job.Username, job.Simulation) : {};
  const runningLease = lease.leaseUntil;
  const running = newEvent({
    ...base,
    ...stamps,
    event: EventTypes.jobRunning,
    leaseUntil: new Date(runningLease).toISOString(),
  });
  await outbox.add(running);
  lease.announced.until = Math.max(lease.announced.until, runningLease);
  stamps.runningTime = running.time;
  context.logger.info("job running", { ...keys, attempt: delivery.attempt });
  try {
    if (!engine)
      throw new EngineError("invalid-input", `This worker pool has no engine for "${job.Application}".`);
    const output = await engine.run(
      {
        jobId: job.JobId,
        sessionId: job.SessionId,
        simulation: job.Simulation,
        application: job.Application,
        input: JSON.parse(job.InputJson) as Record<string, unknown>,
        initialize: job.Initialize,
        reset: job.Reset,
        stagedFiles,
      },
      signal,
    );
    return newEvent({
      ...base,
      ...stamps,
      event: EventTypes.jobSuccess,
      ...(await outputFields(job, output, attemptId)),
    });
  } catch (error) {
    // Anything but the job's own failure (an abort, the infrastructure) ends in a release.
    if (!(error instanceof EngineError)) throw error;
    return newEvent({
      ...base,
      ...stamps,
      event: EventTypes.jobError,
      message: error.message,
      errorClass: error.errorClass,
      ...(error.output ? await outputFields(job, error.output, attemptId) : {}),
    });
  }
}

/**
 * The output inline, or in the results bucket when too large for an event. The limit is measured
 * on the output as the event message carries it: JSON inside JSON, so every quote and backslash
 * is escaped again (an output rich in quotes grows by up to half). The object is keyed per
 * attempt, so a second run of the job never overwrites the output the processor kept.
 */
async function outputFields(
  job: JobItem,
  output: Record<string, unknown>,
  attempt: string,
): Promise<Partial<FoqusEvent>> {
  const json = JSON.stringify(output);
  if (Buffer.byteLength(JSON.stringify(json)) <= MAX_INLINE_OUTPUT_BYTES) return { outputJson: json };
  const key = outputKey(job.Username, job.SessionId, job.JobId, attempt);
  await putOutput(key, json);
  return { outputKey: key };
}
