/**
 * @module results/result-store
 * Result pages: every job that reaches a terminal state gets the next number of its session's
 * finish sequence (see jobs/apply-event.ts); a page is a closed range of those numbers.
 *
 * Closing page n+1 reads the counter and the page sequence's cursor (one BatchGet) and then, in
 * one transaction, advances the cursor (conditional on it still being at page n) and writes the
 * page's range. Two concurrent closes cannot both advance the cursor from n, so pages never
 * overlap and never skip.
 *
 * The answer is always the newest page's number (0 before the first page), and no new page is
 * closed while the newest one has never been read. FOQUS reads only the page number it was just
 * given: if a close's response is lost, the client's retry must get that same page again, not a
 * newer one, or the page is skipped for good (see docs/turbine-client.md). Reading a page is one Query over its range plus a BatchGet of its
 * jobs: the cost depends on the page, never on the session's size.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { batchWrite, queryAll } from "../aws/dynamo-batch.ts";
import { backoff } from "../aws/retry.ts";
import { config } from "../config.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { JobItem } from "../jobs/job.ts";
import { getJobs } from "../jobs/job-store.ts";
import { COUNTER_KEY, generatorKey, MAX_PAGE_RECORDS, pageKey, seqKey } from "./result-keys.ts";

const GEN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CLOSE_ATTEMPTS = 10;

export function assertValidGenerator(gen: string): void {
  if (!GEN.test(gen)) {
    throw new ValidationError(
      `Result generator "${gen}" is not valid: use 1-64 letters, digits, '_' or '-' (clients send 00000000-0000-0000-0000-000000000000).`,
      "gen",
    );
  }
}

/**
 * Closes the next page of `gen` from the jobs that finished since the last page, unless the
 * newest page is still unread. Returns the newest page's number (0 when there is none).
 */
export async function closeResultPage(sessionId: string, gen: string): Promise<number> {
  const table = config.resultsTable;
  for (let attempt = 0; attempt < MAX_CLOSE_ATTEMPTS; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const { Responses } = await documentDbClient().send(
      new BatchGetCommand({
        RequestItems: {
          [table]: {
            Keys: [
              { SessionId: sessionId, Key: COUNTER_KEY },
              { SessionId: sessionId, Key: generatorKey(gen) },
            ],
            ConsistentRead: true,
          },
        },
      }),
    );
    const items = Responses?.[table] ?? [];
    const finished = (items.find((item) => item.Key === COUNTER_KEY)?.Last as number | undefined) ?? 0;
    const cursor = items.find((item) => item.Key === generatorKey(gen));
    const pages = (cursor?.Pages as number | undefined) ?? 0;
    const last = (cursor?.Last as number | undefined) ?? 0;
    const read = (cursor?.Read as number | undefined) ?? 0;
    if (finished <= last || read < pages) return pages;
    const end = Math.min(finished, last + MAX_PAGE_RECORDS);
    try {
      await documentDbClient().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table,
                Key: { SessionId: sessionId, Key: generatorKey(gen) },
                UpdateExpression: "SET Pages = :next, #last = :end",
                // The race: two closes read the same cursor; only one may advance it from n.
                ConditionExpression: cursor ? "Pages = :pages" : "attribute_not_exists(Pages)",
                ExpressionAttributeNames: { "#last": "Last" },
                ExpressionAttributeValues: {
                  ":next": pages + 1,
                  ":end": end,
                  ...(cursor ? { ":pages": pages } : {}),
                },
              },
            },
            {
              Put: {
                TableName: table,
                Item: { SessionId: sessionId, Key: pageKey(gen, pages + 1), First: last + 1, Last: end },
                ConditionExpression: "attribute_not_exists(#key)",
                ExpressionAttributeNames: { "#key": "Key" },
              },
            },
          ],
        }),
      );
      return pages + 1;
    } catch (error) {
      if (error instanceof TransactionCanceledException) continue; // lost the race: re-read
      throw error;
    }
  }
  throw new Error(
    `Could not close a result page for session ${sessionId} after ${MAX_CLOSE_ATTEMPTS} attempts`,
  );
}

function pageNotFound(gen: string, page: number): NotFoundError {
  return new NotFoundError(
    "PageNotFound",
    `Result page ${page} of generator ${gen} does not exist; close pages with POST /session/{sid}/result/${gen} first.`,
  );
}

/** Records that `page` was read, which lets the next close open a new page. */
export async function markPageRead(sessionId: string, gen: string, page: number): Promise<void> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.resultsTable,
        Key: { SessionId: sessionId, Key: generatorKey(gen) },
        UpdateExpression: "SET #read = :page",
        ConditionExpression: "attribute_exists(Pages) AND (attribute_not_exists(#read) OR #read < :page)",
        ExpressionAttributeNames: { "#read": "Read" },
        ExpressionAttributeValues: { ":page": page },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The jobs of one closed page, in finish order. */
export async function readResultPage(sessionId: string, gen: string, page: number): Promise<JobItem[]> {
  const table = config.resultsTable;
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: table,
      Key: { SessionId: sessionId, Key: pageKey(gen, page) },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw pageNotFound(gen, page);
  const entries = await queryAll<{ JobId: string }>({
    TableName: table,
    KeyConditionExpression: "SessionId = :sid AND #key BETWEEN :first AND :last",
    ExpressionAttributeNames: { "#key": "Key" },
    ExpressionAttributeValues: {
      ":sid": sessionId,
      ":first": seqKey(Item.First as number),
      ":last": seqKey(Item.Last as number),
    },
    ConsistentRead: true,
  });
  const jobIds = entries.map((entry) => entry.JobId);
  const jobs = await getJobs(sessionId, jobIds);
  const order = new Map(jobIds.map((id, i) => [id, i]));
  return jobs.sort((a, b) => (order.get(a.JobId) ?? 0) - (order.get(b.JobId) ?? 0));
}

/** Deletes every result item of a session (counter, sequence entries, cursors, pages). */
export async function deleteSessionResults(sessionId: string): Promise<void> {
  const keys = await queryAll<{ SessionId: string; Key: string }>({
    TableName: config.resultsTable,
    KeyConditionExpression: "SessionId = :sid",
    ExpressionAttributeValues: { ":sid": sessionId },
    ProjectionExpression: "SessionId, #key",
    ExpressionAttributeNames: { "#key": "Key" },
  });
  await batchWrite(
    config.resultsTable,
    keys.map((Key) => ({ DeleteRequest: { Key } })),
  );
}
