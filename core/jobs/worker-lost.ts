/**
 * @module jobs/worker-lost
 * The dead-letter rule: a `job.submit` that reaches the update processor from a pool's job
 * dead-letter queue is a job that SQS delivered maxReceiveCount times without any worker
 * finishing it (workers crashed or lost their lease), so it ends `error` with ErrorClass
 * `worker-lost`. The dead-letter queues are named by configuration (JOB_DEAD_LETTER_QUEUE_ARNS),
 * not recognised by a pattern on queue names.
 *
 * Releases that are no death (throttling, staging downloads, shutdowns) requeue a fresh copy of
 * the message, which SQS counts from 0 again, with the message attribute `releases` counting
 * them (worker/release.ts); past MAX_TRANSIENT_RELEASES they spend deliveries like a death. The
 * error message says how many there were, and whether the cap was reached.
 */
import { config } from "../config.ts";
import { ErrorClasses, EventTypes, type FoqusEvent } from "../events/events.ts";
import { MAX_TRANSIENT_RELEASES } from "../limits.ts";

/** The job message's attribute counting its transient releases (a number; absent: none). */
export const RELEASES_ATTRIBUTE = "releases";

/** The event a queue message stands for: a dead-lettered job.submit becomes its worker-lost error. */
export function eventFromQueue(
  event: FoqusEvent,
  source: { queueArn: string; receiveCount: string; releases?: string | undefined },
  deadLetterQueueArns: readonly string[] = config.jobDeadLetterQueueArns,
): FoqusEvent {
  if (event.event !== EventTypes.jobSubmit || !deadLetterQueueArns.includes(source.queueArn)) return event;
  return {
    ...event,
    // One id per dead-lettered job, so a redelivery of this message is the same event.
    id: `${event.id}:worker-lost`,
    event: EventTypes.jobError,
    time: new Date().toISOString(),
    errorClass: ErrorClasses.workerLost,
    message: `The job was delivered ${source.receiveCount} times and no worker finished it (workers crashed or timed out); it was moved to the dead-letter queue.${releasesNote(source.releases)} Append it again to retry.`,
  };
}

function releasesNote(raw: string | undefined): string {
  const releases = Number(raw ?? "0");
  if (!Number.isInteger(releases) || releases <= 0) return "";
  if (releases < MAX_TRANSIENT_RELEASES)
    return ` Before that, workers released it ${releases} times for transient failures (throttling, staging downloads, shutdowns), which spend no delivery.`;
  return ` Before that, workers released it ${releases} times for transient failures (throttling, staging downloads, shutdowns), the most that spend no delivery: it kept failing transiently, and its last deliveries were such failures, not necessarily crashed workers (see the workers' logs).`;
}
