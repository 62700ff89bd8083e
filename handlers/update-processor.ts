/**
 * @module update-processor
 * The single writer of job state after submit. Triggered by the update queue (every event) and
 * by each pool's job dead-letter queue (jobs whose workers kept dying), with SQS partial batch
 * responses: a record that fails is retried alone, and after the queue's maxReceiveCount it
 * moves to the update DLQ, whose alarm tells an operator.
 *
 * Any order is safe, because every write is conditional on state (core/jobs/apply-event.ts).
 * Records are still processed one at a time, because the terminal events of one session all
 * advance the same finish counter and would only contend for it in parallel; and a job's events
 * that a later one in the same batch supersedes are acknowledged without a write of their own.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { FoqusEvent } from "../core/events/events.ts";
import { parseEvent } from "../core/events/parse-event.ts";
import { ApplyOutcomes, applyEvent } from "../core/jobs/apply-event.ts";
import { supersededEvents } from "../core/jobs/supersede.ts";
import { eventFromQueue, RELEASES_ATTRIBUTE } from "../core/jobs/worker-lost.ts";
import { logger, metrics } from "../core/observability.ts";

/** The event a record carries, as the processor applies it. Throws for a malformed body. */
function eventOf(record: SQSRecord): FoqusEvent {
  return eventFromQueue(parseEvent(record.body), {
    queueArn: record.eventSourceARN,
    receiveCount: record.attributes.ApproximateReceiveCount,
    releases: record.messageAttributes?.[RELEASES_ATTRIBUTE]?.stringValue,
  });
}

function tryEventOf(record: SQSRecord): FoqusEvent | undefined {
  try {
    return eventOf(record);
  } catch {
    return undefined; // the record handler throws for it, so the record is retried, then dead-lettered
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const superseded = supersededEvents(event.Records.map(tryEventOf));
  const skipped = new Set(
    event.Records.filter((_, i) => superseded.has(i)).map((record) => record.messageId),
  );
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const applied = eventOf(record);
    const outcome = skipped.has(record.messageId) ? ApplyOutcomes.superseded : await applyEvent(applied);
    logger.debug("event processed", {
      event: applied.event,
      session: applied.session,
      job: applied.job,
      outcome,
    });
    if (outcome === ApplyOutcomes.rejected) {
      logger.warn("event rejected: it names another owner or an output outside the job's prefix", {
        event: applied.event,
        session: applied.session,
        job: applied.job,
        username: applied.username,
        outputKey: applied.outputKey,
      });
    }
    metrics.addMetric(`event-${outcome}`, MetricUnit.Count, 1);
  };
  try {
    // One processor per invocation: the local runtime may run invocations side by side.
    return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      processInParallel: false,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
