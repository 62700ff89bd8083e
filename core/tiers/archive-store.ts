/**
 * @module tiers/archive-store
 * The archives table, keyed by (Username, Key), so everything a user has in archive, or pending
 * archive, is one Query on the user's name (never a Scan):
 *   P#<session>             a pending archive request {SessionId, Until, From, Schedule?}
 *   U#<session>#<first>     an archive unit: one S3 object with the outputs of finish numbers
 *                           First..Last {SessionId, First, Last, ObjectKey, Jobs, State, …}
 *
 * Every write, its condition, and the race it guards:
 * - markPending (the update processor, after a free user's job finished): `noneDueLater(now)`,
 *   no request pending, or one already due (it runs now or ran, and may not have seen this
 *   job); answers the pending one's time when it fails. One request per session per grace
 *   period, however many of its jobs finish; a job that ends while a request is still to come
 *   is seen by that request, which reads the session when it is due.
 * - movePending (the archiver, when a session still has results within their grace): `dueAt(at)`;
 *   false when it fails. Only the request that is due moves it, so a stale duplicate changes
 *   nothing.
 * - clearPending (the archiver, with nothing left to archive): `dueAt(at)`; ignored when it fails.
 * - deletePending (an upgrade): unconditional.
 * - putUnit (the archiver): `unitIsNew`; answers the stored unit when it exists (a run that
 *   crashed after writing it), so the rerun finishes that unit instead of making another.
 * - setUnitState (the restorer): `stateIs(from)`; false when it fails. archived → restoring →
 *   restored, each once, so a notification delivered twice restores once.
 * - deleteUnits (a session deleted): unconditional.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { failedItemNumber } from "../aws/condition-failure.ts";
import { batchWrite, queryAll } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { config } from "../config.ts";

export const UnitStates = { archived: "archived", restoring: "restoring", restored: "restored" } as const;
export type UnitState = (typeof UnitStates)[keyof typeof UnitStates];

export interface PendingArchive {
  Username: string;
  Key: string;
  SessionId: string;
  /** When the request is due (epoch ms): its identity, carried by the request itself. */
  Until: number;
  /** The first finish number it may archive: what finished while the user was premium is never archived. */
  From: number;
  /** The EventBridge Scheduler schedule that carries it, when the delay exceeded SQS's. */
  Schedule?: string;
}

export interface ArchiveUnit {
  Username: string;
  Key: string;
  SessionId: string;
  First: number;
  Last: number;
  ObjectKey: string;
  Jobs: number;
  Bytes: number;
  State: UnitState;
  Archived: string;
  RestoreTier?: string;
  RestoreRequested?: string;
  Restored?: string;
}

export const pendingKey = (sessionId: string): string => `P#${sessionId}`;
export const unitKey = (sessionId: string, first: number): string =>
  `U#${sessionId}#${String(first).padStart(12, "0")}`;

/** The id a job's marker carries: the unit's key, which names its session and first number. */
export const unitIdOf = (unit: Pick<ArchiveUnit, "SessionId" | "First">): string =>
  unitKey(unit.SessionId, unit.First);

export async function getPending(username: string, sessionId: string): Promise<PendingArchive | undefined> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.archivesTable,
      Key: { Username: username, Key: pendingKey(sessionId) },
      ConsistentRead: true,
    }),
  );
  return Item as PendingArchive | undefined;
}

/**
 * Records a request due at `until` for the session, unless one is pending that is due after
 * `now`: then answers that one's due time. `from` is kept from an earlier request.
 */
export async function markPending(
  username: string,
  sessionId: string,
  until: number,
  from: number,
  now: number,
): Promise<{ marked: true } | { marked: false; until: number }> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.archivesTable,
        Key: { Username: username, Key: pendingKey(sessionId) },
        UpdateExpression: "SET SessionId = :sid, #until = :until, #from = if_not_exists(#from, :from)",
        ConditionExpression: "attribute_not_exists(#until) OR #until <= :now", // noneDueLater(now)
        ExpressionAttributeNames: { "#until": "Until", "#from": "From" },
        ExpressionAttributeValues: { ":sid": sessionId, ":until": until, ":from": from, ":now": now },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { marked: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return { marked: false, until: failedItemNumber(error, "Until") };
  }
}

/** Records which schedule carries the request due at `until` (so an upgrade can delete it). */
export async function setPendingSchedule(
  username: string,
  sessionId: string,
  until: number,
  schedule: string,
): Promise<void> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.archivesTable,
        Key: { Username: username, Key: pendingKey(sessionId) },
        UpdateExpression: "SET #schedule = :schedule",
        ConditionExpression: "#until = :until",
        ExpressionAttributeNames: { "#schedule": "Schedule", "#until": "Until" },
        ExpressionAttributeValues: { ":schedule": schedule, ":until": until },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The request due at `at` becomes one due at `until`, archiving from `from` on. */
export async function movePending(
  username: string,
  sessionId: string,
  at: number,
  until: number,
  from: number,
): Promise<boolean> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.archivesTable,
        Key: { Username: username, Key: pendingKey(sessionId) },
        UpdateExpression: "SET #until = :until, #from = :from REMOVE #schedule",
        ConditionExpression: "#until = :at", // dueAt(at)
        ExpressionAttributeNames: { "#until": "Until", "#from": "From", "#schedule": "Schedule" },
        ExpressionAttributeValues: { ":until": until, ":from": from, ":at": at },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Removes the request due at `at`: the session has nothing left to archive. */
export async function clearPending(username: string, sessionId: string, at: number): Promise<void> {
  try {
    await documentDbClient().send(
      new DeleteCommand({
        TableName: config.archivesTable,
        Key: { Username: username, Key: pendingKey(sessionId) },
        ConditionExpression: "#until = :at", // dueAt(at)
        ExpressionAttributeNames: { "#until": "Until" },
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export async function listPending(username: string): Promise<PendingArchive[]> {
  return queryAll<PendingArchive>({
    TableName: config.archivesTable,
    KeyConditionExpression: "Username = :user AND begins_with(#key, :prefix)",
    ExpressionAttributeNames: { "#key": "Key" },
    ExpressionAttributeValues: { ":user": username, ":prefix": "P#" },
    ConsistentRead: true,
  });
}

export async function deletePending(username: string, sessionId: string): Promise<void> {
  await documentDbClient().send(
    new DeleteCommand({
      TableName: config.archivesTable,
      Key: { Username: username, Key: pendingKey(sessionId) },
    }),
  );
}

/** Stores a new unit; when one with its key exists (a crashed run's), answers that one instead. */
export async function putUnit(unit: ArchiveUnit): Promise<ArchiveUnit> {
  try {
    await documentDbClient().send(
      new PutCommand({
        TableName: config.archivesTable,
        Item: unit,
        ConditionExpression: "attribute_not_exists(#key)", // unitIsNew
        ExpressionAttributeNames: { "#key": "Key" },
      }),
    );
    return unit;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const stored = await getUnit(unit.Username, unit.Key);
    if (!stored) throw error;
    return stored;
  }
}

export async function getUnit(username: string, key: string): Promise<ArchiveUnit | undefined> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.archivesTable,
      Key: { Username: username, Key: key },
      ConsistentRead: true,
    }),
  );
  return Item as ArchiveUnit | undefined;
}

/** The user's units in `state` (all of a session's when `sessionId` is given, in any state). */
export async function listUnits(username: string, filter: { state?: UnitState; sessionId?: string } = {}) {
  return queryAll<ArchiveUnit>({
    TableName: config.archivesTable,
    KeyConditionExpression: "Username = :user AND begins_with(#key, :prefix)",
    ...(filter.state ? { FilterExpression: "#state = :state" } : {}),
    ExpressionAttributeNames: { "#key": "Key", ...(filter.state ? { "#state": "State" } : {}) },
    ExpressionAttributeValues: {
      ":user": username,
      ":prefix": filter.sessionId ? `U#${filter.sessionId}#` : "U#",
      ...(filter.state ? { ":state": filter.state } : {}),
    },
    ConsistentRead: true,
  });
}

/** Moves a unit from state `from` to `to` with `fields`; false when it was not in `from`. */
export async function setUnitState(
  unit: Pick<ArchiveUnit, "Username" | "Key">,
  from: UnitState,
  to: UnitState,
  fields: Record<string, string> = {},
): Promise<boolean> {
  const names: Record<string, string> = { "#state": "State" };
  const values: Record<string, string> = { ":from": from, ":to": to };
  const sets = ["#state = :to"];
  Object.entries(fields).forEach(([field, value], i) => {
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  });
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.archivesTable,
        Key: { Username: unit.Username, Key: unit.Key },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#state = :from", // stateIs(from)
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Deletes the session's units and pending request (the session is being deleted). */
export async function deleteSessionArchiveItems(username: string, sessionId: string): Promise<ArchiveUnit[]> {
  const units = await listUnits(username, { sessionId });
  await batchWrite(config.archivesTable, [
    ...units.map((unit) => ({ DeleteRequest: { Key: { Username: username, Key: unit.Key } } })),
    { DeleteRequest: { Key: { Username: username, Key: pendingKey(sessionId) } } },
  ]);
  return units;
}
