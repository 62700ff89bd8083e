/**
 * @module archiver
 * The archive queue → core/tiers/archive-session.ts: each due archive request moves a free
 * user's session's results past their grace period to archive storage. SQS partial batch
 * responses: a request that fails comes back alone, and after the queue's maxReceiveCount goes
 * to its dead-letter queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "../core/observability.ts";
import { archiveSession } from "../core/tiers/archive-session.ts";
import * as z from "../core/zod.ts";

const ArchiveRequestSchema = z.object({
  kind: z.literal("archive"),
  username: z.string().check(z.minLength(1)),
  sessionId: z.string().check(z.minLength(1)),
  at: z.int(),
  graceSeconds: z.int().check(z.minimum(1)),
});

async function recordHandler(record: SQSRecord): Promise<void> {
  const request = ArchiveRequestSchema.parse(JSON.parse(record.body));
  const report = await archiveSession(request);
  logger.info("archive request done", { session: request.sessionId, ...report });
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context });
}
