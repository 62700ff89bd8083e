/**
 * @module jobs/worker-lost
 * The dead-letter rule: a `job.submit` that reaches the update processor from a pool's job
 * dead-letter queue is a job that SQS delivered maxReceiveCount times without any worker
 * finishing it (workers crashed or lost their lease), so it ends `error` with ErrorClass
 * `worker-lost`. The dead-letter queues are named by configuration (JOB_DEAD_LETTER_QUEUE_ARNS),
 * not recognised by a pattern on queue names.
 */
import { config } from "../config.ts";
import { ErrorClasses, EventTypes, type FoqusEvent } from "../events/events.ts";

/** The event a queue message stands for: a dead-lettered job.submit becomes its worker-lost error. */
export function eventFromQueue(
  event: FoqusEvent,
  source: { queueArn: string; receiveCount: string },
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
    message: `The job was delivered ${source.receiveCount} times and no worker finished it (workers crashed or timed out); it was moved to the dead-letter queue. Append it again to retry.`,
  };
}
