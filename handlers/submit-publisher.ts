/**
 * @module submit-publisher
 * The jobs table's stream → `job.submit` events (core/jobs/submit-outbox.ts explains why). Each
 * batch of stream records is published with PublishBatch; when some events could not be sent,
 * the first record not sent is reported as the batch's failure, so that record and everything
 * after it come again (stream order per shard), and nothing before it is sent twice on purpose.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { isErrorOf } from "../core/errors.ts";
import { PublishError, publishEvents } from "../core/events/event-publisher.ts";
import { submitEventsOf } from "../core/jobs/submit-outbox.ts";
import { logger } from "../core/observability.ts";

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  logger.addContext(context);
  const submits = submitEventsOf(event.Records);
  if (submits.length === 0) return { batchItemFailures: [] };
  try {
    await publishEvents(submits.map(({ event: submit }) => submit));
    return { batchItemFailures: [] };
  } catch (error) {
    const unsent = new Set(
      (isErrorOf(error, PublishError) ? error.unpublished : submits.map(({ event: submit }) => submit)).map(
        (submit) => submit.id,
      ),
    );
    const first = submits.find(({ event: submit }) => unsent.has(submit.id));
    logger.warn("publishing job.submit events failed; the stream delivers them again", {
      error: (error as Error).message,
      unsent: unsent.size,
    });
    const sequence = first?.record.dynamodb?.SequenceNumber;
    if (!sequence) throw error;
    return { batchItemFailures: [{ itemIdentifier: sequence }] };
  }
}
