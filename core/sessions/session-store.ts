/**
 * @module sessions/session-store
 * The sessions table, keyed by (Username, SessionId): a session is only ever read through its
 * owner's name, so another user's session id is simply not found.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { queryAll } from "../aws/dynamo-batch.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { ConflictError, NotFoundError } from "../errors.ts";

export const SessionStates = { open: "open", killed: "killed" } as const;
export type SessionState = (typeof SessionStates)[keyof typeof SessionStates];

export interface SessionRecord {
  Username: string;
  SessionId: string;
  State: SessionState;
  Created: string;
  Killed?: string;
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

/** The caller's session, or SessionNotFound (also for somebody else's id). */
export async function getSession(username: string, sessionId: string): Promise<SessionRecord> {
  const session = await findSession(username, sessionId);
  if (!session) throw sessionNotFound(sessionId);
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

/** Marks the session killed (idempotent); appends fail from now on. */
export async function markSessionKilled(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<void> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.sessionsTable,
        Key: { Username: username, SessionId: sessionId },
        UpdateExpression: "SET #state = :killed, Killed = if_not_exists(Killed, :now)",
        ConditionExpression: "attribute_exists(SessionId)",
        ExpressionAttributeNames: { "#state": "State" },
        ExpressionAttributeValues: { ":killed": SessionStates.killed, ":now": isoNow(clock) },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw sessionNotFound(sessionId);
    throw error;
  }
}

export async function deleteSessionRecord(username: string, sessionId: string): Promise<void> {
  await documentDbClient().send(
    new DeleteCommand({ TableName: config.sessionsTable, Key: { Username: username, SessionId: sessionId } }),
  );
}
