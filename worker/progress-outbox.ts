/**
 * @module progress-outbox
 * The worker's outbox, with progress held back briefly: a job's `setup` or `running` waits up to
 * `holdMs` before it goes to the batcher, and a later state event of the same attempt replaces
 * it. Later events repeat the earlier timestamps (setupTime, runningTime), so the job record
 * still shows both; a job that runs for less than the hold costs one event, not three.
 *
 * What it trades: a job reads `submit` (or `setup`) for up to `holdMs` longer, and another
 * worker may see its attempt as live that much later (worker/lease.ts: duplicates are kept off
 * running jobs, not off ones that just started). The caller is not held up: adding a progress
 * event resolves at once, and a publish of it that fails is logged, not thrown; the terminal
 * event that follows carries its timestamps anyway.
 *
 * Any other event of the attempt (a heartbeat, the lease's end) sends what is held first, so
 * the processor sees them in order. flush() sends everything held (the shutdown).
 */
import { EVENT_TARGET_STATE, type FoqusEvent } from "../core/events/events.ts";
import { isTerminal } from "../core/jobs/states.ts";
import type { Outbox, WorkerLogger } from "./run-job.ts";

const PROGRESS = new Set(["job.setup", "job.running"]);

interface Held {
  event: FoqusEvent;
  timer: NodeJS.Timeout;
}

/** The attempt an event belongs to: one run of one job by one worker. */
const attemptOf = (event: FoqusEvent): string | undefined =>
  event.job ? `${event.session}/${event.job}/${event.consumer ?? ""}` : undefined;

export class ProgressOutbox implements Outbox {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly next: Outbox,
    private readonly holdMs: number,
    private readonly log: Pick<WorkerLogger, "warn">,
  ) {}

  add(event: FoqusEvent): Promise<void> {
    const attempt = attemptOf(event);
    const held = attempt ? this.held.get(attempt) : undefined;
    if (PROGRESS.has(event.event) && attempt && this.holdMs > 0) {
      // A later progress event of the attempt replaces the held one.
      if (held) clearTimeout(held.timer);
      const timer = setTimeout(() => this.release(attempt), this.holdMs);
      timer.unref();
      this.held.set(attempt, { event, timer });
      return Promise.resolve();
    }
    if (held && attempt) {
      const to = EVENT_TARGET_STATE[event.event];
      if (to && isTerminal(to)) {
        // Superseded: the terminal event carries what the held one said.
        clearTimeout(held.timer);
        this.held.delete(attempt);
      } else {
        this.release(attempt);
      }
    }
    return this.next.add(event);
  }

  /** Sends everything held, then flushes the batcher. */
  async flush(): Promise<void> {
    for (const attempt of [...this.held.keys()]) this.release(attempt);
    await this.next.flush();
  }

  /** Events held now (for tests and logs). */
  get holding(): number {
    return this.held.size;
  }

  private release(attempt: string): void {
    const held = this.held.get(attempt);
    if (!held) return;
    clearTimeout(held.timer);
    this.held.delete(attempt);
    this.next.add(held.event).catch((error: unknown) =>
      this.log.warn("a progress event could not be published; the job's next event carries its time", {
        event: held.event.event,
        session: held.event.session,
        job: held.event.job,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}
