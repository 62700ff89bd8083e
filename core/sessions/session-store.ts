/**
 * @module sessions/session-store
 * The sessions table, keyed by (Username, SessionId): a session is only ever read through its
 * owner's name, so another user's session id is simply not found.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { retryTransactionConflicts } from "../aws/conflict-retry.ts";
import { queryAll } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { ConflictError, NotFoundError } from "../errors.ts";

/**
 * A session is `open` (it takes appends and starts), then `killed` (kill: no new jobs; its
 * unfinished jobs end `terminate`), and `deleting` once a delete began (its jobs, results and
 * files are being removed, the record last). open may go straight to deleting.
 */
export const SessionStates = { open: "open", killed: "killed", deleting: "deleting" } as const;
export type SessionState = (typeof SessionStates)[keyof typeof SessionStates];

/** What a fan-out does to the session's jobs (sessions/fan-out.ts). */
export const FanOutKinds = { start: "start", stop: "stop", kill: "kill", delete: "delete" } as const;
export type FanOutKind = (typeof FanOutKinds)[keyof typeof FanOutKinds];

/**
 * Work on the session's jobs that its API call left to the backend, a page at a time
 * (sessions/fan-out.ts); absent when none is in progress.
 */
export interface FanOutRecord {
  Kind: FanOutKind;
  /** This fan-out's id: a newer one (or a stop, kill or delete) replaces it, and its pages stop. */
  Id: string;
  /** The number of the page to run next; only a message carrying it runs. */
  Page: number;
  /** When the API call handed the work over (ISO-8601). */
  Since: string;
  /** Jobs changed so far, the API call's own included. */
  Jobs: number;
  /** Where the next page starts, for a kind that cannot simply look again (kill). */
  Cursor?: Record<string, unknown>;
}

export interface SessionRecord {
  Username: string;
  SessionId: string;
  State: SessionState;
  Created: string;
  Killed?: string;
  FanOut?: FanOutRecord;
}

export function sessionNotFound(sessionId: string): NotFoundError {
  return new NotFoundError(
    "SessionNotFound",
    `Session ${sessionId} does not exist for this user; create one with POST /session and use the id it returns.`,
  );
}

export async function createSession(username: string, clock: Clock = systemClock): Promise<SessionRecord> {
  const session: SessionRecord = {
    Username: username,
    SessionId: randomUUID(),
    State: SessionStates.open,
    Created: isoNow(clock),
  };
  await documentDbClient().send(
    new PutCommand({
      TableName: config.sessionsTable,
      Item: session,
      ConditionExpression: "attribute_not_exists(SessionId)",
    }),
  );
  return session;
}

/**
 * The shape of every session id createSession hands out (a UUID), loosely: anything else names
 * no session, and is not looked up (a 3,000-character id would fail DynamoDB's key limit).
 */
const SESSION_ID = /^[0-9A-Za-z-]{1,64}$/;

export async function findSession(username: string, sessionId: string): Promise<SessionRecord | undefined> {
  if (!SESSION_ID.test(sessionId)) return undefined;
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.sessionsTable,
      Key: { Username: username, SessionId: sessionId },
      ConsistentRead: true,
    }),
  );
  return Item as SessionRecord | undefined;
}

export function sessionDeleting(sessionId: string): ConflictError {
  return new ConflictError(
    "SessionDeleting",
    `Session ${sessionId} is being deleted: its jobs and results are removed in the background, and it answers 404 SessionNotFound once gone. GET /session/${sessionId}/summary shows how far it got; DELETE /session/${sessionId} again resumes a deletion that stopped.`,
  );
}

/**
 * The caller's session, or SessionNotFound (also for somebody else's id); SessionDeleting while
 * it is being deleted, unless `deleting` is "allow" (the summary, and delete itself).
 */
export async function getSession(
  username: string,
  sessionId: string,
  options: { deleting?: "allow" | "refuse" } = {},
): Promise<SessionRecord> {
  const session = await findSession(username, sessionId);
  if (!session) throw sessionNotFound(sessionId);
  if (session.State === SessionStates.deleting && options.deleting !== "allow")
    throw sessionDeleting(sessionId);
  return session;
}

/** The session, only if jobs may still be added to it. */
export async function getOpenSession(username: string, sessionId: string): Promise<SessionRecord> {
  const session = await getSession(username, sessionId);
  if (session.State === SessionStates.killed) {
    throw new ConflictError(
      "SessionKilled",
      `Session ${sessionId} was killed and takes no new jobs; create a new session with POST /session.`,
    );
  }
  return session;
}

export async function listSessionIds(username: string): Promise<string[]> {
  const sessions = await queryAll<Pick<SessionRecord, "SessionId">>({
    TableName: config.sessionsTable,
    KeyConditionExpression: "Username = :u",
    ExpressionAttributeValues: { ":u": username },
    ProjectionExpression: "SessionId",
  });
  return sessions.map((session) => session.SessionId);
}

/**
 * Marks the session `to` (killed, or deleting), keeping the first Killed time, and ends any
 * fan-out in progress (its next page finds another id, or none, and stops). Idempotent; a
 * deleting session is never brought back to killed. Answers the session as written.
 */
async function markSessionStopped(
  username: string,
  sessionId: string,
  to: "killed" | "deleting",
  clock: Clock,
): Promise<SessionRecord> {
  try {
    const { Attributes } = await retryTransactionConflicts(() =>
      documentDbClient().send(
        new UpdateCommand({
          TableName: config.sessionsTable,
          Key: { Username: username, SessionId: sessionId },
          UpdateExpression: "SET #state = :to, Killed = if_not_exists(Killed, :now) REMOVE FanOut",
          ConditionExpression:
            to === SessionStates.killed
              ? "attribute_exists(SessionId) AND #state <> :deleting"
              : "attribute_exists(SessionId)",
          ExpressionAttributeNames: { "#state": "State" },
          ExpressionAttributeValues: {
            ":to": to,
            ":now": isoNow(clock),
            ...(to === SessionStates.killed ? { ":deleting": SessionStates.deleting } : {}),
          },
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      ),
    );
    return Attributes as SessionRecord;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      throw error.Item ? sessionDeleting(sessionId) : sessionNotFound(sessionId);
    throw error;
  }
}

/** Marks the session killed (idempotent); appends fail from now on, and any fan-out stops. */
export async function markSessionKilled(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<SessionRecord> {
  return markSessionStopped(username, sessionId, SessionStates.killed, clock);
}

/** Marks the session deleting (idempotent): every route but DELETE and the summary refuses it. */
export async function markSessionDeleting(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<SessionRecord> {
  return markSessionStopped(username, sessionId, SessionStates.deleting, clock);
}

export async function deleteSessionRecord(username: string, sessionId: string): Promise<void> {
  await documentDbClient().send(
    new DeleteCommand({ TableName: config.sessionsTable, Key: { Username: username, SessionId: sessionId } }),
  );
}
