/**
 * @module lease
 * Keeps the leases of every delivery in hand: on each heartbeat, the job queue extends them all
 * (one batched call per 10), and one BatchGetItem of their jobs' states (100 a call, across
 * sessions) finds the jobs that were killed (state `terminate`) or deleted, whose runs are then
 * aborted. A kill therefore reaches a running engine within one heartbeat.
 *
 * Each of those calls has a deadline (its abort signal, and a race in case a call ignores it):
 * the longer of a heartbeat and a third of the lease. A hung call fails at its deadline, and the
 * next heartbeat runs as usual; a missed extension is made up by the next one (by default, 5 s
 * beats and a 30 s lease: deadlines of 10 s, so a lease outlives one hung extension).
 *
 * Leases are kept per delivery, not per job: a duplicate delivery of one job, or jobs of two
 * sessions that share a client-supplied Id, each have their own lease and their own abort.
 *
 * **A live attempt.** An attempt is a run of a job by one worker (its ConsumerId), under one
 * delivery. Its lease ends at the earliest at `leaseUntil`: when the receive (or the last
 * extension that succeeded) was asked for, plus the lease; SQS cannot show the message to anybody
 * else before. The attempt announces it: job.setup and job.running carry `leaseUntil`, and while
 * it runs, a heartbeat whose extension succeeded publishes a job.heartbeat with the new one once
 * the announced lease would end within half a lease: about every half lease, never per beat, and
 * none for an attempt shorter than that. The update processor records it on the job as LeaseUntil beside ConsumerId
 * (core/jobs/job-store.ts `holdLease`). An attempt is **live** while its job is in setup or
 * running with that ConsumerId and LeaseUntil is still ahead (`liveAttempt`). Another worker that
 * receives the job then does not run it: it requeues the message until about when that lease
 * ends (worker/release.ts), and looks again; a dead attempt's lease runs out, and the job runs.
 * An attempt that hands its job back (a shutdown, a transient failure) ends its lease at once
 * with a last job.heartbeat whose `leaseUntil` is its own time, so the next worker need not
 * wait for it to run out.
 * Events take a moment to reach the record, so this keeps duplicates off a running job, not off
 * one that started a moment ago; a worker never runs two deliveries of one job itself.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { newEvent } from "../core/events/event-publisher.ts";
import { EventTypes, type FoqusEvent } from "../core/events/events.ts";
import type { JobItem } from "../core/jobs/job.ts";
import { type getJobsByKey, jobKey } from "../core/jobs/job-store.ts";
import type { Delivery, JobQueue } from "./job-queue.ts";
import type { Outbox } from "./run-job.ts";

/** Reads job records by session and job id, keyed by `jobKey` (core/jobs/job-store.ts). */
export type ReadJobs = typeof getJobsByKey;

/** The fields every event of an attempt carries (worker/run-job.ts). */
export type AttemptFields = Omit<FoqusEvent, "id" | "event" | "time">;

export interface Lease {
  delivery: Delivery;
  sessionId: string;
  jobId: string;
  /** Aborted with reason "killed" when the job was killed or deleted. */
  controller: AbortController;
  /** When the lease ends at the earliest, in ms since the epoch; moved on by each extension. */
  leaseUntil: number;
  /**
   * Set by the run once its setup event announced the lease: the fields of its heartbeat event,
   * and the lease end it last announced (ms).
   */
  announced?: { fields: AttemptFields; until: number };
}

export const KILLED = "killed";

/**
 * True when `job` shows a live attempt of another consumer than `self` at `now` (ms): in setup or
 * running, by a consumer that is not this worker, with a lease that has not ended.
 */
export function liveAttempt(
  job: Pick<JobItem, "State" | "ConsumerId" | "LeaseUntil">,
  self: string,
  now: number,
) {
  if (job.State !== "setup" && job.State !== "running") return false;
  if (!job.ConsumerId || job.ConsumerId === self || !job.LeaseUntil) return false;
  return Date.parse(job.LeaseUntil) > now;
}

export interface LeaseKeeperOptions {
  queue: Pick<JobQueue, "extend">;
  readJobs: ReadJobs;
  /** Where heartbeat events go (the worker's outbox). */
  outbox: Outbox;
  heartbeatSeconds: number;
  leaseSeconds: number;
  log: Pick<Logger, "warn">;
}

/** Runs `call` with an abort signal that fires after `ms`; rejects then even if the call ignores it. */
export async function withDeadline<T>(
  ms: number,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${what} took longer than ${ms} ms`);
      error.name = "TimeoutError";
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export class LeaseKeeper {
  /** By delivery id. */
  private readonly leases = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private readonly leaseMs: number;
  /** Deadline of each call of a heartbeat. */
  readonly callTimeoutMs: number;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.leaseMs = options.leaseSeconds * 1000;
    this.callTimeoutMs = Math.max(options.heartbeatSeconds * 1000, this.leaseMs / 3);
  }

  start(): void {
    this.timer ??= setInterval(() => {
      // heartbeat() never rejects and each of its calls has a deadline, so it always ends.
      this.beating ??= this.heartbeat().then(() => {
        this.beating = undefined;
      });
    }, this.options.heartbeatSeconds * 1000);
  }

  /** Stops the heartbeats; resolves once the one in progress, if any, is over. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  hold(lease: Lease): void {
    this.leases.set(lease.delivery.id, lease);
  }

  /** Stops extending the delivery's lease (a heartbeat already under way may still extend it). */
  forget(delivery: Delivery): void {
    this.leases.delete(delivery.id);
  }

  /**
   * Resolves once the heartbeat in progress, if any, is over: a lease forgotten before this call
   * is extended by no heartbeat after it resolves (so a release is not undone by an extension).
   */
  async settled(): Promise<void> {
    await this.beating;
  }

  /** Extends every lease, aborts the runs of killed jobs, announces long leases. Never rejects. */
  async heartbeat(): Promise<void> {
    const leases = [...this.leases.values()];
    if (leases.length === 0) return;
    const asked = Date.now();
    const [extended, checked] = await Promise.allSettled([
      withDeadline(this.callTimeoutMs, "extending the leases", (signal) =>
        this.options.queue.extend(
          leases.map((lease) => lease.delivery),
          signal,
        ),
      ),
      withDeadline(this.callTimeoutMs, "the kill check", (signal) => this.checkKills(leases, signal)),
    ]);
    // A missed beat is made up by the next one.
    for (const [step, result] of [
      ["extending the leases", extended],
      ["the kill check", checked],
    ] as const) {
      if (result.status === "rejected") {
        const error = result.reason as unknown;
        this.options.log.warn("heartbeat failed", {
          step,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (extended.status !== "fulfilled") return;
    for (const lease of leases) lease.leaseUntil = asked + this.leaseMs;
    this.announce(leases, asked);
  }

  /**
   * Publishes a job.heartbeat for each attempt whose announced lease ends within half a lease of
   * `now`, with its lease as just extended, so its record keeps showing it live; attempts shorter
   * than that send none. Not awaited: a slow publish never holds up the next heartbeat (a failed
   * one is tried again on the next beat).
   */
  private announce(leases: Lease[], now: number): void {
    for (const lease of leases) {
      const announced = lease.announced;
      if (!announced || lease.controller.signal.aborted || !this.leases.has(lease.delivery.id)) continue;
      if (announced.until - now >= this.leaseMs / 2 || lease.leaseUntil <= announced.until) continue;
      const previous = announced.until;
      announced.until = lease.leaseUntil;
      const event = newEvent({
        ...announced.fields,
        event: EventTypes.jobHeartbeat,
        leaseUntil: new Date(lease.leaseUntil).toISOString(),
      });
      this.options.outbox.add(event).catch((error: unknown) => {
        announced.until = previous;
        this.options.log.warn("heartbeat failed", {
          step: "announcing the lease",
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }
  }

  private async checkKills(leases: Lease[], signal: AbortSignal): Promise<void> {
    // One key per job: deliveries of one job share it, and BatchGetItem refuses duplicate keys.
    const keys = new Map(
      leases.map((lease) => [
        jobKey(lease.sessionId, lease.jobId),
        { sessionId: lease.sessionId, jobId: lease.jobId },
      ]),
    );
    const states = await this.options.readJobs([...keys.values()], ["JobId", "State"], { signal });
    for (const lease of leases) {
      const state = states.get(jobKey(lease.sessionId, lease.jobId))?.State;
      if (state === undefined || state === "terminate") lease.controller.abort(KILLED);
    }
  }
}
