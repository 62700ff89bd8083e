/**
 * @module release
 * How a worker hands a job's message back without finishing it, and why. SQS counts every
 * receive toward the queue's maxReceiveCount (3), after which the job ends `worker-lost`; those
 * deliveries are meant for workers that died. None of these reasons is a death, so each
 * requeues a fresh copy of the message (worker/job-queue.ts `requeue`), whose receive count
 * starts at 0:
 *
 * - `shutdown`: SIGTERM, scale-in, a Spot notice. At once (no delay): another worker takes it.
 * - `transient`: the job's record could not be read, a staged file could not be downloaded, an
 *   event could not be published. After a backoff of 2^(n+1) s (n earlier such releases, up to
 *   1.5× for jitter, at most SQS's 900 s), so a throttled service gets room.
 * - `live-attempt`: the job's record shows another worker's attempt whose lease has not ended
 *   (worker/lease.ts defines "live"). Not run; back when that lease ends, to look again.
 * - `held`: this worker already runs the job under another delivery. Not run; back after a
 *   lease, by when this worker finished or released it.
 *
 * `shutdown` and `transient` releases are counted in the message itself (the `releases`
 * attribute) and capped at MAX_TRANSIENT_RELEASES: past it, the release is plain
 * (ChangeMessageVisibility, which spends a delivery), so a job that keeps failing transiently
 * still ends, in the dead-letter queue as `worker-lost`, with a message that counts its releases
 * (core/jobs/worker-lost.ts). `live-attempt` and `held` are not counted: they last only as long
 * as the live attempt they wait for. A copy that cannot be sent falls back to the plain release
 * too; if even that fails the message reappears when its lease ends. Nothing is ever lost.
 *
 * Each worker counts its releases by reason; every release's log line carries the counts so far
 * (`releaseCounts`), and so does the worker's "stopped" line.
 */
import { MAX_TRANSIENT_RELEASES } from "../core/limits.ts";
import { type Delivery, type JobQueue, MAX_DELAY_SECONDS } from "./job-queue.ts";
import type { WorkerLogger } from "./run-job.ts";

export const ReleaseReasons = {
  shutdown: "shutdown",
  transient: "transient",
  liveAttempt: "live-attempt",
  held: "held",
} as const;
export type ReleaseReason = (typeof ReleaseReasons)[keyof typeof ReleaseReasons];

/** Reasons counted in the message's `releases` attribute and capped. */
const COUNTED: readonly ReleaseReason[] = [ReleaseReasons.shutdown, ReleaseReasons.transient];

/** What a release did, for the caller's log line. */
export interface Released {
  reason: ReleaseReason;
  delaySeconds: number;
  /** The message's transient releases after this one. */
  transientReleases: number;
  /** True when this release counted toward maxReceiveCount (the cap was reached, or the copy failed). */
  spendsDelivery: boolean;
  /** This worker's releases so far, by reason. */
  releaseCounts: Record<ReleaseReason, number>;
}

/** Seconds to wait before the n+1-th transient release's copy is seen (n earlier ones). */
export function transientDelaySeconds(earlier: number, random: () => number = Math.random): number {
  const base = 2 ** Math.min(earlier + 1, 10);
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(base * (1 + random() / 2)));
}

export class Releaser {
  private readonly counts: Record<ReleaseReason, number> = {
    shutdown: 0,
    transient: 0,
    "live-attempt": 0,
    held: 0,
  };

  constructor(
    private readonly queue: Pick<JobQueue, "requeue" | "release">,
    private readonly log: WorkerLogger,
  ) {}

  /** This worker's releases so far, by reason. */
  releaseCounts(): Record<ReleaseReason, number> {
    return { ...this.counts };
  }

  /**
   * Hands the delivery's message back for `reason`, visible again after `delaySeconds` (default:
   * 0 for a shutdown, the backoff for a transient failure). Never rejects: a release that fails
   * altogether is logged, and the message reappears when its lease ends.
   */
  async release(delivery: Delivery, reason: ReleaseReason, delaySeconds?: number): Promise<Released> {
    const earlier = delivery.releases ?? 0;
    const counted = COUNTED.includes(reason);
    const transientReleases = counted ? earlier + 1 : earlier;
    const delay = Math.min(
      MAX_DELAY_SECONDS,
      Math.max(0, Math.ceil(delaySeconds ?? (reason === "transient" ? transientDelaySeconds(earlier) : 0))),
    );
    this.counts[reason] += 1;
    let spendsDelivery = counted && transientReleases > MAX_TRANSIENT_RELEASES;
    if (spendsDelivery) {
      this.log.warn("a job was released transiently too often; this release spends one of its deliveries", {
        releases: earlier,
        max: MAX_TRANSIENT_RELEASES,
      });
    } else {
      try {
        await this.queue.requeue(delivery, { delaySeconds: delay, releases: transientReleases });
      } catch (error) {
        spendsDelivery = true;
        this.log.warn("could not requeue a job's message; releasing it plainly, which spends a delivery", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (spendsDelivery) {
      try {
        await this.queue.release(delivery, delay);
      } catch (error) {
        this.log.warn("could not release a job; it reappears when its lease ends", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return {
      reason,
      delaySeconds: delay,
      transientReleases,
      spendsDelivery,
      releaseCounts: this.releaseCounts(),
    };
  }
}
