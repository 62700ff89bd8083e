/**
 * @module sessions/fan-out-store
 * The session record's FanOut attribute (session-store.ts FanOutRecord) and the queue of fan-out
 * pages. Each write, its condition, and the race it guards (sessions/fan-out.ts tells the whole):
 *
 * - beginFanOut: the session in the state the kind needs (start: open; stop: not deleting; kill:
 *   killed; delete: deleting); undefined when it fails. Replaces any fan-out in progress, whose
 *   pages then find another id and stop. A start handed over just as a kill lands is never begun.
 * - advanceFanOut: `FanOut.Id = id AND FanOut.Page = page`; false when it fails. Only one run of
 *   a page moves the fan-out on, however many copies of its message run at once.
 * - endFanOut: `FanOut.Id = id`; ignored when it fails (replaced meanwhile: the newer one stays).
 * - clearFanOut: `FanOut.Kind = kind`; ignored when it fails. A stop ends a start's fan-out (and
 *   a start a stop's) before it changes anything, so the two never undo each other in turn.
 * - deleteSessionRecordAfter: `FanOut.Id = id`; false when it fails. A delete's last page removes
 *   the record only while its own fan-out is the current one.
 *
 * Writes of the session record are retried on TransactionConflictException: the claims of a
 * start (jobs/claim-jobs.ts) check the record inside their transactions.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { sqsModule } from "../aws/client-modules.ts";
import { retryTransactionConflicts } from "../aws/conflict-retry.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { isErrorOf } from "../errors.ts";
import { type FanOutKind, FanOutKinds, type FanOutRecord, SessionStates } from "./session-store.ts";

/** One page of a fan-out to run: the message on the fan-out queue. */
export interface FanOutMessage {
  username: string;
  sessionId: string;
  /** The fan-out's id (FanOutRecord.Id). */
  id: string;
  /** The page this message runs (FanOutRecord.Page when it is due). */
  page: number;
}

function keyOf(username: string, sessionId: string) {
  return { TableName: config.sessionsTable, Key: { Username: username, SessionId: sessionId } };
}

/** Runs a conditional write; false when its condition failed. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await retryTransactionConflicts(write);
    return true;
  } catch (error) {
    if (isErrorOf(error, ConditionalCheckFailedException)) return false;
    throw error;
  }
}

/** The state a session must be in for a fan-out of `kind` to begin. */
const BEGIN_CONDITION: Record<FanOutKind, { expression: string; state: string }> = {
  [FanOutKinds.start]: { expression: "#state = :state", state: SessionStates.open },
  [FanOutKinds.stop]: {
    expression: "attribute_exists(SessionId) AND #state <> :state",
    state: SessionStates.deleting,
  },
  [FanOutKinds.kill]: { expression: "#state = :state", state: SessionStates.killed },
  [FanOutKinds.delete]: { expression: "#state = :state", state: SessionStates.deleting },
};

/**
 * Records a new fan-out of `kind` on the session, due at page 1, with the jobs the API call
 * changed itself and where the backend goes on. Undefined when the session is no longer in the
 * state the kind needs (see BEGIN_CONDITION).
 */
export async function beginFanOut(
  username: string,
  sessionId: string,
  kind: FanOutKind,
  progress: { jobs: number; cursor?: Record<string, unknown> | undefined },
  clock: Clock = systemClock,
): Promise<FanOutRecord | undefined> {
  const record: FanOutRecord = {
    Kind: kind,
    Id: randomUUID(),
    Page: 1,
    Since: isoNow(clock),
    Jobs: progress.jobs,
    ...(progress.cursor ? { Cursor: progress.cursor } : {}),
  };
  const { expression, state } = BEGIN_CONDITION[kind];
  const begun = await conditional(() =>
    documentDbClient().send(
      new UpdateCommand({
        ...keyOf(username, sessionId),
        UpdateExpression: "SET #fo = :record",
        ConditionExpression: expression,
        ExpressionAttributeNames: { "#fo": "FanOut", "#state": "State" },
        ExpressionAttributeValues: { ":record": record, ":state": state },
      }),
    ),
  );
  return begun ? record : undefined;
}

/**
 * Moves fan-out `id` from page `page` to the next, adding the page's jobs and keeping where the
 * next page starts. False when another run of the page did so first, or the fan-out was replaced.
 */
export async function advanceFanOut(
  username: string,
  sessionId: string,
  id: string,
  page: number,
  progress: { jobs: number; cursor?: Record<string, unknown> | undefined },
): Promise<boolean> {
  return conditional(() =>
    documentDbClient().send(
      new UpdateCommand({
        ...keyOf(username, sessionId),
        UpdateExpression: progress.cursor
          ? "SET #fo.#page = :next, #fo.#jobs = #fo.#jobs + :jobs, #fo.#cursor = :cursor"
          : "SET #fo.#page = :next, #fo.#jobs = #fo.#jobs + :jobs REMOVE #fo.#cursor",
        ConditionExpression: "#fo.#id = :id AND #fo.#page = :page",
        ExpressionAttributeNames: {
          "#fo": "FanOut",
          "#id": "Id",
          "#page": "Page",
          "#jobs": "Jobs",
          "#cursor": "Cursor",
        },
        ExpressionAttributeValues: {
          ":id": id,
          ":page": page,
          ":next": page + 1,
          ":jobs": progress.jobs,
          ...(progress.cursor ? { ":cursor": progress.cursor } : {}),
        },
      }),
    ),
  );
}

/** Ends fan-out `id`: nothing is in progress any more (unless another one replaced it). */
export async function endFanOut(username: string, sessionId: string, id: string): Promise<void> {
  await conditional(() =>
    documentDbClient().send(
      new UpdateCommand({
        ...keyOf(username, sessionId),
        UpdateExpression: "REMOVE #fo",
        ConditionExpression: "#fo.#id = :id",
        ExpressionAttributeNames: { "#fo": "FanOut", "#id": "Id" },
        ExpressionAttributeValues: { ":id": id },
      }),
    ),
  );
}

/** Ends the session's fan-out if it is of `kind` (a stop ends a start's, a start a stop's). */
export async function clearFanOut(username: string, sessionId: string, kind: FanOutKind): Promise<void> {
  await conditional(() =>
    documentDbClient().send(
      new UpdateCommand({
        ...keyOf(username, sessionId),
        UpdateExpression: "REMOVE #fo",
        ConditionExpression: "#fo.#kind = :kind",
        ExpressionAttributeNames: { "#fo": "FanOut", "#kind": "Kind" },
        ExpressionAttributeValues: { ":kind": kind },
      }),
    ),
  );
}

/** A delete's last step: the session record, only while fan-out `id` is the current one. */
export async function deleteSessionRecordAfter(
  username: string,
  sessionId: string,
  id: string,
): Promise<boolean> {
  return conditional(() =>
    documentDbClient().send(
      new DeleteCommand({
        ...keyOf(username, sessionId),
        ConditionExpression: "#fo.#id = :id",
        ExpressionAttributeNames: { "#fo": "FanOut", "#id": "Id" },
        ExpressionAttributeValues: { ":id": id },
      }),
    ),
  );
}

/**
 * Sends one page of a fan-out to the backend (handlers/fan-out.ts). SQS loads on first use: most
 * API calls hand nothing over (handlers/build.ts keeps it a chunk of its own).
 */
export async function sendFanOutPage(message: FanOutMessage): Promise<void> {
  const { SendMessageCommand, sqsClient } = await sqsModule();
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: config.fanOutQueueUrl, MessageBody: JSON.stringify(message) }),
  );
}
