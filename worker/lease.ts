/**
 * @module lease
 * Keeps the leases of every job in hand: on each heartbeat, one ChangeMessageVisibilityBatch
 * (10 a call) extends them all, and one BatchGetItem of their states (100 a call, across sessions) finds the
 * jobs that were killed (state `terminate`) or deleted, whose runs are then aborted. A kill
 * therefore reaches a running engine within one heartbeat.
 */
import { ChangeMessageVisibilityBatchCommand } from "@aws-sdk/client-sqs";
import { sqsClient } from "../core/aws/clients.ts";
import { getJobsByKey, jobKey } from "../core/jobs/job-store.ts";
import { logger } from "../core/observability.ts";

export interface Lease {
  sessionId: string;
  jobId: string;
  receiptHandle: string;
  /** Aborted with reason "killed" when the job was killed or deleted. */
  controller: AbortController;
}

export const KILLED = "killed";

export class LeaseKeeper {
  private readonly leases = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly queueUrl: string,
    private readonly heartbeatSeconds: number,
    private readonly leaseSeconds: number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => {
        this.beating = undefined;
      });
    }, this.heartbeatSeconds * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  hold(lease: Lease): void {
    this.leases.set(lease.jobId, lease);
  }

  release(jobId: string): void {
    this.leases.delete(jobId);
  }

  get size(): number {
    return this.leases.size;
  }

  /** Extends every lease and aborts the runs of killed jobs. */
  async heartbeat(): Promise<void> {
    const leases = [...this.leases.values()];
    if (leases.length === 0) return;
    try {
      await this.extend(leases);
      await this.checkKills(leases);
    } catch (error) {
      // A missed heartbeat is retried on the next one; the lease is longer than two beats.
      logger.warn("heartbeat failed", { error: (error as Error).message });
    }
  }

  private async extend(leases: Lease[]): Promise<void> {
    for (let i = 0; i < leases.length; i += 10) {
      const batch = leases.slice(i, i + 10);
      await sqsClient().send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((lease, j) => ({
            Id: String(j),
            ReceiptHandle: lease.receiptHandle,
            VisibilityTimeout: this.leaseSeconds,
          })),
        }),
      );
    }
  }

  private async checkKills(leases: Lease[]): Promise<void> {
    const states = await getJobsByKey(
      leases.map((lease) => ({ sessionId: lease.sessionId, jobId: lease.jobId })),
      ["JobId", "State"],
    );
    for (const lease of leases) {
      const state = states.get(jobKey(lease.sessionId, lease.jobId))?.State;
      if (state === undefined || state === "terminate") lease.controller.abort(KILLED);
    }
  }
}
