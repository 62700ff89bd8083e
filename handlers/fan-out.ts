/**
 * @module fan-out
 * The fan-out queue → core/sessions/fan-out.ts: each message is one page of a start, stop, kill
 * or delete too large for its API call, and a page sends the next one itself. SQS partial batch
 * responses: a page that fails comes back alone (a redelivery, which the page tells by its
 * receive count), and after the queue's maxReceiveCount goes to its dead-letter queue, where the
 * fan-out stops until the client repeats its call (which begins it again).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "../core/observability.ts";
import { runFanOutPage } from "../core/sessions/fan-out.ts";
import * as z from "../core/zod.ts";

const FanOutMessageSchema = z.object({
  username: z.string().check(z.minLength(1)),
  sessionId: z.string().check(z.minLength(1)),
  id: z.string().check(z.minLength(1)),
  page: z.int().check(z.minimum(1)),
});

async function recordHandler(record: SQSRecord): Promise<void> {
  const message = FanOutMessageSchema.parse(JSON.parse(record.body));
  const redelivered = Number(record.attributes.ApproximateReceiveCount ?? "1") > 1;
  const outcome = await runFanOutPage(message, redelivered);
  logger.info("fan-out page", { session: message.sessionId, page: message.page, outcome });
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context });
}
