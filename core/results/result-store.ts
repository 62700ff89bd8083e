/**
 * @module results/result-store
 * Result pages: every job that reaches a terminal state gets the next number of its session's
 * finish sequence (jobs/job-store.ts finishJob); a page is a closed range of those numbers.
 *
 * Every write of result state is here. Each one, its condition, what it answers when the
 * condition fails, and the race the condition guards:
 *
 * - counterAdvanceItem (inside finishJob's transaction): `counterAt(previous)`; the transaction
 *   is cancelled ("contended"). Two jobs of a session finishing at once cannot take one number.
 * - finishEntryItem (inside finishJob's transaction): `seqFree(seq)`; cancelled likewise. A
 *   number is given to one job only, even if the counter were ever rewound.
 * - closeResultPage: one transaction of `cursorAt(pages)` on the generator's cursor and
 *   `pageNew` on the page; re-reads and retries when cancelled. Two concurrent closes cannot
 *   both advance the cursor from n, so pages never overlap and never skip.
 * - markPageRead: `cursorExists` and `readBefore(page)`; ignored when it fails (already read).
 *   Lets the next close open a new page only once this one was read.
 * - shrinkResultPage: one transaction of `endsAfter(last)` on the page and `cursorAt(page)` on
 *   the cursor; ignored when cancelled (another reader shrank it first). A page whose records do
 *   not fit one response ends earlier, and the rest go to the next page: nothing is skipped,
 *   since no later page can have been closed while this one was unread.
 * - appendRecordItem (inside putNewJobs' first transaction): unconditional; it records which
 *   jobs the latest append of a body created, so a retry of that body can be recognised (see
 *   jobs/append-jobs.ts). Written with the jobs, so it never names jobs that were not written.
 * - addArchivedRange / removeArchivedRange (the archiver, the restorer): unconditional, and
 *   idempotent (one attribute per range). A close never opens a page over archived records: it
 *   ends the page before them, or answers ResultsArchived (see closeResultPage).
 * - decideSessionFinished: `decidedBefore(count)`; answers what was recorded when it fails. The
 *   update processor decides "the session's last job ended" once per finish count, however many
 *   processors see the session idle at once; markNotified records that the notice went out.
 * - claimedAddItem (inside start's claim transactions, jobs/claim-jobs.ts): unconditional ADD
 *   of the jobs that very transaction moves from create to submit, so the count is exact,
 *   whether the API call or a backend page claims them. addClaimed is the same ADD on its own:
 *   a caller that dies before it counts leaves the count low, which only costs the processor an
 *   extra look (sessions/session-finished.ts); it is never high.
 * - deleteSessionResults: unconditional (the session is being deleted).
 *
 * The answer to a close is always the newest page's number (0 before the first page), and no
 * new page is closed while the newest one has never been read. FOQUS reads only the page number
 * it was just given: if a close's response is lost, the client's retry must get that same page
 * again, not a newer one, or the page is skipped for good (see docs/turbine-client.md). Reading a
 * page is one Query over its range plus a BatchGet of its jobs: the cost depends on the page,
 * never on the session's size.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { failedItemNumber } from "../aws/condition-failure.ts";
import { batchWrite, queryAll } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { backoff } from "../aws/retry.ts";
import { config } from "../config.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { JobItem } from "../jobs/job.ts";
import { getJobs } from "../jobs/job-store.ts";
import {
  ARCHIVED_KEY,
  appendKey,
  CLAIMED_KEY,
  COUNTER_KEY,
  generatorKey,
  MAX_PAGE_RECORDS,
  NOTIFY_KEY,
  pageKey,
  seqKey,
} from "./result-keys.ts";

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

/** The session's finish counter: how many of its jobs have a finish number. */
export async function readFinishCounter(sessionId: string): Promise<number> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: COUNTER_KEY },
      ConsistentRead: true,
    }),
  );
  return (Item?.Last as number | undefined) ?? 0;
}

/** The jobs the latest append of a body with `hash` created in the session, if any. */
export async function readAppendRecord(sessionId: string, hash: string): Promise<string[] | undefined> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: appendKey(hash) },
      ConsistentRead: true,
    }),
  );
  return Item?.JobIds as string[] | undefined;
}

/** Transaction item: the latest append of a body with `hash` created `jobIds`. */
export function appendRecordItem(sessionId: string, hash: string, jobIds: string[]) {
  return {
    Put: {
      TableName: config.resultsTable,
      Item: { SessionId: sessionId, Key: appendKey(hash), JobIds: jobIds },
    },
  };
}

/** Transaction item: the finish counter moves from `previous` to `next` (condition counterAt). */
export function counterAdvanceItem(sessionId: string, previous: number, next: number) {
  return {
    Update: {
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: COUNTER_KEY },
      UpdateExpression: "SET #last = :next",
      ConditionExpression: previous === 0 ? "attribute_not_exists(#last)" : "#last = :previous",
      ExpressionAttributeNames: { "#last": "Last" },
      ExpressionAttributeValues: { ":next": next, ...(previous === 0 ? {} : { ":previous": previous }) },
    },
  };
}

/** Transaction item: finish number `seq` belongs to `jobId` (condition seqFree). */
export function finishEntryItem(sessionId: string, seq: number, jobId: string) {
  return {
    Put: {
      TableName: config.resultsTable,
      Item: { SessionId: sessionId, Key: seqKey(seq), JobId: jobId },
      ConditionExpression: "attribute_not_exists(#key)",
      ExpressionAttributeNames: { "#key": "Key" },
    },
  };
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
              { SessionId: sessionId, Key: ARCHIVED_KEY },
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
    const archived = archivedRanges(items.find((item) => item.Key === ARCHIVED_KEY));
    const end = endBeforeArchived(sessionId, last, Math.min(finished, last + MAX_PAGE_RECORDS), archived);
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

/** The archived finish-number ranges of a session, from its ARCHIVED item. */
function archivedRanges(item: Record<string, unknown> | undefined): [first: number, last: number][] {
  if (!item) return [];
  return Object.entries(item)
    .filter(([name]) => /^R[0-9]+$/.test(name))
    .map(([name, last]) => [Number(name.slice(1)), last as number]);
}

/**
 * Where a page of the records after `last` may end, up to `end`, without holding archived ones:
 * before the first archived range. A page cannot start on one: the answer is ResultsArchived,
 * as a 400, because that is what the turbine client acts on (it ends its result loop instead
 * of retrying for minutes; docs/turbine-client.md).
 */
function endBeforeArchived(
  sessionId: string,
  last: number,
  end: number,
  archived: [number, number][],
): number {
  let fitting = end;
  for (const [first, rangeLast] of archived) {
    if (rangeLast <= last || first > fitting) continue;
    if (first <= last + 1) {
      throw new ValidationError(archivedMessage(sessionId), undefined, "ResultsArchived", {
        details: { sessionId, from: last + 1 },
      });
    }
    fitting = first - 1;
  }
  return fitting;
}

export function archivedMessage(sessionId: string): string {
  return `The next results of session ${sessionId} are archived: a free plan keeps results readable for a grace period after they finish. Upgrading the account to the premium plan restores them (an admin runs \`foqus-admin plan <user> premium\`, or PUT /user/{name}/plan); paging goes on once they are restored. Job states stay readable in GET /session/${sessionId}.`;
}

/** Records that finish numbers first..last of the session are archived. */
export async function addArchivedRange(sessionId: string, first: number, last: number): Promise<void> {
  await documentDbClient().send(
    new UpdateCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: ARCHIVED_KEY },
      UpdateExpression: "SET #range = :last",
      ExpressionAttributeNames: { "#range": `R${first}` },
      ExpressionAttributeValues: { ":last": last },
    }),
  );
}

/** Records that the range starting at `first` is readable again. */
export async function removeArchivedRange(sessionId: string, first: number): Promise<void> {
  await documentDbClient().send(
    new UpdateCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: ARCHIVED_KEY },
      UpdateExpression: "REMOVE #range",
      ExpressionAttributeNames: { "#range": `R${first}` },
    }),
  );
}

/**
 * Decides that the session's in-flight jobs all ended at finish count `count`: true for the one
 * caller that moves the decision to `count`; otherwise what was recorded (a notice decided but
 * not sent shows Sent < Decided, so a retry sends it).
 */
export async function decideSessionFinished(
  sessionId: string,
  count: number,
): Promise<true | { decided: number; sent: number }> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.resultsTable,
        Key: { SessionId: sessionId, Key: NOTIFY_KEY },
        UpdateExpression: "SET Decided = :count",
        ConditionExpression: "attribute_not_exists(Decided) OR Decided < :count", // decidedBefore(count)
        ExpressionAttributeValues: { ":count": count },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return { decided: failedItemNumber(error, "Decided"), sent: failedItemNumber(error, "Sent") };
  }
}

/** Adds `count` jobs that start moved from create to submit. */
export async function addClaimed(sessionId: string, count: number): Promise<void> {
  await documentDbClient().send(
    new UpdateCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: CLAIMED_KEY },
      UpdateExpression: "ADD #count :count",
      ExpressionAttributeNames: { "#count": "Count" },
      ExpressionAttributeValues: { ":count": count },
    }),
  );
}

/**
 * Transaction item: addClaimed's ADD, written in the same transaction as the claims it counts
 * (jobs/claim-jobs.ts), so the count is exact: never low, never high.
 */
export function claimedAddItem(sessionId: string, count: number) {
  return {
    Update: {
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: CLAIMED_KEY },
      UpdateExpression: "ADD #count :count",
      ExpressionAttributeNames: { "#count": "Count" },
      ExpressionAttributeValues: { ":count": count },
    },
  };
}

/** How many jobs start ever moved from create to submit (0 before the first start). */
export async function readClaimed(sessionId: string): Promise<number> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: CLAIMED_KEY },
      ConsistentRead: true,
    }),
  );
  return (Item?.Count as number | undefined) ?? 0;
}

/** Records that the notice for finish count `count` went out. */
export async function markNotified(sessionId: string, count: number): Promise<void> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.resultsTable,
        Key: { SessionId: sessionId, Key: NOTIFY_KEY },
        UpdateExpression: "SET Sent = :count",
        ConditionExpression: "attribute_not_exists(Sent) OR Sent < :count",
        ExpressionAttributeValues: { ":count": count },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
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

/** Ends page `page` of `gen` at finish number `last`; the records after it go to the next page. */
export async function shrinkResultPage(
  sessionId: string,
  gen: string,
  page: number,
  last: number,
): Promise<void> {
  const table = config.resultsTable;
  try {
    await documentDbClient().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: { SessionId: sessionId, Key: pageKey(gen, page) },
              UpdateExpression: "SET #last = :last",
              ConditionExpression: "#last > :last", // endsAfter(last)
              ExpressionAttributeNames: { "#last": "Last" },
              ExpressionAttributeValues: { ":last": last },
            },
          },
          {
            Update: {
              TableName: table,
              Key: { SessionId: sessionId, Key: generatorKey(gen) },
              UpdateExpression: "SET #last = :last",
              ConditionExpression: "Pages = :page AND #last > :last", // cursorAt(page)
              ExpressionAttributeNames: { "#last": "Last" },
              ExpressionAttributeValues: { ":last": last, ":page": page },
            },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
  }
}

/** The jobs that finished first..last-th in the session, in finish order (one Query). */
export async function readFinishEntries(
  sessionId: string,
  first: number,
  last: number,
): Promise<{ JobId: string; Seq: number }[]> {
  const entries = await queryAll<{ JobId: string; Key: string }>({
    TableName: config.resultsTable,
    KeyConditionExpression: "SessionId = :sid AND #key BETWEEN :first AND :last",
    ExpressionAttributeNames: { "#key": "Key" },
    ExpressionAttributeValues: { ":sid": sessionId, ":first": seqKey(first), ":last": seqKey(last) },
    ConsistentRead: true,
  });
  return entries.map((entry) => ({ JobId: entry.JobId, Seq: Number(entry.Key.slice(2)) }));
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
  const entries = await readFinishEntries(sessionId, Item.First as number, Item.Last as number);
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
