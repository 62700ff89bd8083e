/**
 * @module sessions/purge-store
 * Deleting a session's data a bounded page at a time, for a delete too large for one call
 * (sessions/fan-out.ts): its jobs, its result items, and its objects under a prefix (outputs,
 * archives). Each call deletes at most `limit` items and says whether more remain. Nothing here
 * keeps a cursor: what was deleted is gone, so the next call simply reads from the start again,
 * and a page repeated after a crash or a redelivery finds only what is left. Unconditional
 * deletes: the session is being deleted (its record says so, and refuses appends).
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { s3Module } from "../aws/client-modules.ts";
import { batchWrite } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { config } from "../config.ts";
import { type JobKey, queryJobKeys } from "../jobs/job-key-pages.ts";

/** What one page deleted, and whether any of the kind remain. */
export interface PurgePage<T> {
  deleted: T[];
  more: boolean;
}

/** Deletes up to `limit` of the session's jobs (25 per BatchWriteItem). */
export async function deleteJobPage(sessionId: string, limit: number): Promise<PurgePage<JobKey>> {
  const { keys, next } = await queryJobKeys(sessionId, { limit });
  await batchWrite(
    config.jobsTable,
    keys.map((job) => ({ DeleteRequest: { Key: { SessionId: job.SessionId, JobId: job.JobId } } })),
  );
  return { deleted: keys, more: next !== undefined };
}

/** Deletes up to `limit` of the session's result items (counter, finish entries, cursors, pages). */
export async function deleteResultPage(sessionId: string, limit: number): Promise<PurgePage<string>> {
  const keys: { SessionId: string; Key: string }[] = [];
  let next: Record<string, unknown> | undefined;
  do {
    const result = await documentDbClient().send(
      new QueryCommand({
        TableName: config.resultsTable,
        KeyConditionExpression: "SessionId = :sid",
        ExpressionAttributeValues: { ":sid": sessionId },
        ProjectionExpression: "SessionId, #key",
        ExpressionAttributeNames: { "#key": "Key" },
        ...(Number.isFinite(limit) ? { Limit: limit - keys.length } : {}),
        ...(next ? { ExclusiveStartKey: next } : {}),
      }),
    );
    keys.push(...((result.Items ?? []) as { SessionId: string; Key: string }[]));
    next = result.LastEvaluatedKey;
  } while (next && keys.length < limit);
  await batchWrite(
    config.resultsTable,
    keys.map((Key) => ({ DeleteRequest: { Key } })),
  );
  return { deleted: keys.map((key) => key.Key), more: next !== undefined };
}

/** Deletes up to 1,000 objects under `prefix` (one list, one DeleteObjects). */
export async function deleteObjectPage(bucket: string, prefix: string): Promise<PurgePage<string>> {
  const { DeleteObjectsCommand, paginateListObjectsV2, s3Client } = await s3Module();
  for await (const page of paginateListObjectsV2(
    { client: s3Client(), pageSize: 1000 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
    if (keys.length > 0) {
      await s3Client().send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    return { deleted: keys, more: page.IsTruncated === true };
  }
  return { deleted: [], more: false };
}
