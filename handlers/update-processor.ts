/**
 * @module update-processor
 * The single writer of job state after submit. Triggered by the update queue (every event) and
 * by each pool's job dead-letter queue (jobs whose workers kept dying), with SQS partial batch
 * responses: a record that fails is retried alone, and after the queue's maxReceiveCount it
 * moves to the update DLQ, whose alarm tells an operator. Any order is safe, because every
 * write is conditional on state (core/jobs/apply-event.ts); records are still processed one at
 * a time, because the terminal events of one session all advance the same finish counter and
 * would only contend for it in parallel.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ErrorClasses, EventTypes, type FoqusEvent } from "../core/events/events.ts";
import { parseEvent } from "../core/events/parse-event.ts";
import { applyEvent } from "../core/jobs/apply-event.ts";
import { logger, metrics } from "../core/observability.ts";

const processor = new BatchProcessor(EventType.SQS);

/** A message from a job dead-letter queue: the job's deliveries all failed. */
export function isFromJobDeadLetterQueue(record: SQSRecord): boolean {
  return /-jobs-[^:]+-dlq$/.test(record.eventSourceARN);
}

function workerLost(event: FoqusEvent, receives: string): FoqusEvent {
  return {
    ...event,
    id: `${event.id}:worker-lost`,
    event: EventTypes.jobError,
    time: new Date().toISOString(),
    errorClass: ErrorClasses.workerLost,
    message: `The job was delivered ${receives} times and no worker finished it (workers crashed or timed out); it was moved to the dead-letter queue. Append it again to retry.`,
  };
}

async function recordHandler(record: SQSRecord): Promise<void> {
  let event = parseEvent(record.body);
  if (isFromJobDeadLetterQueue(record) && event.event === EventTypes.jobSubmit) {
    event = workerLost(event, record.attributes.ApproximateReceiveCount);
  }
  const outcome = await applyEvent(event);
  logger.debug("event processed", { event: event.event, session: event.session, job: event.job, outcome });
  metrics.addMetric(`event-${outcome}`, MetricUnit.Count, 1);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    return await processPartialResponse(event, recordHandler, processor, {
      context,
      processInParallel: false,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
