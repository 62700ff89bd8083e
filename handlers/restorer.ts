/**
 * @module restorer
 * The restore queue → core/tiers/restore-results.ts. It carries two kinds of message: restore
 * requests (an upgrade: ask every archived unit of the user back from archive storage), and the
 * results bucket's s3:ObjectRestore:Completed notifications (a unit's restored copy is readable:
 * put its outputs back). S3 also sends one s3:TestEvent when the notification is configured.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, S3Event, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "../core/observability.ts";
import { completeRestore, type RestoreRequest, restoreUserResults } from "../core/tiers/restore-results.ts";

/** S3 event keys are URL-encoded, with '+' for a space (moto also encodes '/'). */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

async function recordHandler(record: SQSRecord): Promise<void> {
  const body = JSON.parse(record.body) as Partial<RestoreRequest> & Partial<S3Event> & { Event?: string };
  if (body.kind === "restore" && typeof body.username === "string") {
    const report = await restoreUserResults(body.username);
    logger.info("restore requested", { username: body.username, ...report });
    return;
  }
  if (body.Event === "s3:TestEvent") return;
  if (!Array.isArray(body.Records)) throw new Error("not a restore request nor an S3 notification");
  for (const s3Record of body.Records) {
    if (!s3Record.eventName?.startsWith("ObjectRestore:Completed")) continue;
    const key = decodeS3Key(s3Record.s3.object.key);
    const outcome = await completeRestore(key);
    logger.info("restore completed", { key, outcome });
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context });
}
