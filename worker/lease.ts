/**
 * @module lease
 * Keeps the leases of every delivery in hand: on each heartbeat, the job queue extends them all
 * (one batched call per 10), and one BatchGetItem of their jobs' states (100 a call, across
 * sessions) finds the jobs that were killed (state `terminate`) or deleted, whose runs are then
 * aborted. A kill therefore reaches a running engine within one heartbeat.
 *
 * Leases are kept per delivery, not per job: a duplicate delivery of one job, or jobs of two
 * sessions that share a client-supplied Id, each have their own lease and their own abort.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type getJobsByKey, jobKey } from "../core/jobs/job-store.ts";
import type { Delivery, JobQueue } from "./job-queue.ts";

/** Reads job records by session and job id, keyed by `jobKey` (core/jobs/job-store.ts). */
export type ReadJobs = typeof getJobsByKey;

export interface Lease {
  delivery: Delivery;
  sessionId: string;
  jobId: string;
  /** Aborted with reason "killed" when the job was killed or deleted. */
  controller: AbortController;
}

export const KILLED = "killed";

export class LeaseKeeper {
  /** By delivery id. */
  private readonly leases = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly queue: Pick<JobQueue, "extend">,
    private readonly readJobs: ReadJobs,
    private readonly heartbeatSeconds: number,
    private readonly log: Pick<Logger, "warn">,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      // heartbeat() never rejects: a failed beat is logged and retried on the next one.
      this.beating ??= this.heartbeat().then(() => {
        this.beating = undefined;
      });
    }, this.heartbeatSeconds * 1000);
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

  /** Extends every lease and aborts the runs of killed jobs. Never rejects. */
  async heartbeat(): Promise<void> {
    const leases = [...this.leases.values()];
    if (leases.length === 0) return;
    try {
      await this.queue.extend(leases.map((lease) => lease.delivery));
      await this.checkKills(leases);
    } catch (error) {
      // A missed heartbeat is retried on the next one; the lease is longer than two beats.
      this.log.warn("heartbeat failed", { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async checkKills(leases: Lease[]): Promise<void> {
    // One key per job: deliveries of one job share it, and BatchGetItem refuses duplicate keys.
    const keys = new Map(
      leases.map((lease) => [
        jobKey(lease.sessionId, lease.jobId),
        { sessionId: lease.sessionId, jobId: lease.jobId },
      ]),
    );
    const states = await this.readJobs([...keys.values()], ["JobId", "State"]);
    for (const lease of leases) {
      const state = states.get(jobKey(lease.sessionId, lease.jobId))?.State;
      if (state === undefined || state === "terminate") lease.controller.abort(KILLED);
    }
  }
}
