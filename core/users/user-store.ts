/**
 * @module users/user-store
 * The users table: one item per user, keyed by `Username`. Only the admin command creates,
 * removes or re-passwords users; the API reads them and changes plans.
 *
 * A removed user is first a tombstone (users/remove-user.ts says why): the item stays, with
 * `Removed` set and its password hash and roles gone, until everything the user owned is
 * deleted. A tombstone authenticates nobody, cannot be re-passworded, re-planned or re-roled,
 * and keeps the name from being created again; only releaseRemovedUser deletes it.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { queryAll } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { hashPassword, passwordProblem } from "./password.ts";
import { assertValidUsername, type Plan, Plans, type Role } from "./user.ts";

/**
 * Every user item carries `Kind = "user"`, the partition key of the `ByKind` index that lists
 * them; a tombstone carries `Kind = "removed-user"`, so the operator's list shows it apart.
 */
const USER_KIND = "user";
const REMOVED_KIND = "removed-user";
const BY_KIND_INDEX = "ByKind";

export interface UserRecord {
  Username: string;
  Kind?: typeof USER_KIND | typeof REMOVED_KIND;
  PasswordHash: string;
  Plan: Plan;
  Roles: Role[];
  Created: string;
  PlanChanged?: string;
  /** Set on a tombstone: when the removal started (ISO-8601 UTC). */
  Removed?: string;
  /** Where "your session finished" notices go, and the subscription that sends them. */
  Email?: string;
  EmailSubscription?: string;
}

/** What a tombstone holds instead of a password hash: it matches no password. */
const NO_PASSWORD = "removed";

/** Whether the item is a tombstone: a user being removed, who owns nothing new and logs in never. */
export function isRemovedUser(user: UserRecord): boolean {
  return user.Removed !== undefined || user.Kind === REMOVED_KIND;
}

function userBeingRemoved(user: UserRecord): ConflictError {
  return new ConflictError(
    "UserBeingRemoved",
    `User "${user.Username}" is being removed (since ${user.Removed}); finish with 'foqus-admin remove ${user.Username}', after which the name can be used again.`,
  );
}

function userNotFound(username: string): NotFoundError {
  return new NotFoundError(
    "UserNotFound",
    `User "${username}" does not exist; list users with 'foqus-admin list'.`,
  );
}

export async function getUser(username: string): Promise<UserRecord | undefined> {
  const { Item } = await documentDbClient().send(
    new GetCommand({ TableName: config.usersTable, Key: { Username: username } }),
  );
  return Item as UserRecord | undefined;
}

export async function createUser(
  input: { username: string; password: string; plan?: Plan; roles?: Role[] },
  clock: Clock = systemClock,
): Promise<UserRecord> {
  assertValidUsername(input.username);
  const problem = passwordProblem(input.password);
  if (problem) throw new ValidationError(`Password rejected: ${problem}.`, "password");
  const user: UserRecord = {
    Username: input.username,
    Kind: USER_KIND,
    PasswordHash: await hashPassword(input.password),
    Plan: input.plan ?? Plans.free,
    Roles: input.roles ?? [],
    Created: isoNow(clock),
  };
  try {
    await documentDbClient().send(
      new PutCommand({
        TableName: config.usersTable,
        Item: user,
        ConditionExpression: "attribute_not_exists(Username)",
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const existing = await getUser(input.username);
      if (existing && isRemovedUser(existing)) throw userBeingRemoved(existing);
      throw new ConflictError(
        "UserExists",
        `User "${input.username}" already exists; use 'foqus-admin passwd' to reset the password.`,
      );
    }
    throw error;
  }
  return user;
}

export async function setPassword(username: string, password: string): Promise<void> {
  const problem = passwordProblem(password);
  if (problem) throw new ValidationError(`Password rejected: ${problem}.`, "password");
  await updateExisting(username, "SET PasswordHash = :h", { ":h": await hashPassword(password) });
}

export async function setPlan(username: string, plan: Plan, clock: Clock = systemClock): Promise<UserRecord> {
  return updateExisting(
    username,
    "SET #plan = :plan, PlanChanged = :now",
    { ":plan": plan, ":now": isoNow(clock) },
    {
      "#plan": "Plan",
    },
  );
}

export async function setEmail(username: string, email: string, subscription: string): Promise<UserRecord> {
  return updateExisting(username, "SET Email = :email, EmailSubscription = :subscription", {
    ":email": email,
    ":subscription": subscription,
  });
}

export async function setRoles(username: string, roles: Role[]): Promise<UserRecord> {
  return updateExisting(username, "SET #roles = :roles", { ":roles": roles }, { "#roles": "Roles" });
}

async function updateExisting(
  username: string,
  update: string,
  values: Record<string, unknown>,
  names?: Record<string, string>,
): Promise<UserRecord> {
  try {
    const { Attributes } = await documentDbClient().send(
      new UpdateCommand({
        TableName: config.usersTable,
        Key: { Username: username },
        UpdateExpression: update,
        // Never a tombstone: a new password would let a removed user log in again.
        ConditionExpression: "attribute_exists(Username) AND attribute_not_exists(#removed)",
        ExpressionAttributeValues: values,
        ExpressionAttributeNames: { ...names, "#removed": "Removed" },
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes as UserRecord;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const existing = await getUser(username);
      if (existing && isRemovedUser(existing)) throw userBeingRemoved(existing);
      throw userNotFound(username);
    }
    throw error;
  }
}

/**
 * Turns the user into a tombstone (idempotent: a repeat keeps the first `Removed` time) and
 * answers it. From now on the user authenticates nowhere their credentials are not cached yet.
 */
export async function markUserRemoved(username: string, clock: Clock = systemClock): Promise<UserRecord> {
  try {
    const { Attributes } = await documentDbClient().send(
      new UpdateCommand({
        TableName: config.usersTable,
        Key: { Username: username },
        UpdateExpression:
          "SET #removed = if_not_exists(#removed, :now), PasswordHash = :none, #roles = :noRoles, Kind = :kind",
        ConditionExpression: "attribute_exists(Username)",
        ExpressionAttributeNames: { "#removed": "Removed", "#roles": "Roles" },
        ExpressionAttributeValues: {
          ":now": isoNow(clock),
          ":none": NO_PASSWORD,
          ":noRoles": [],
          ":kind": REMOVED_KIND,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes as UserRecord;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw userNotFound(username);
    throw error;
  }
}

/**
 * Deletes the tombstone, freeing the name, if its removal started at or before `removedBy`.
 * False when it did not (too recent), or when the item is gone or is no tombstone (the name
 * was released and created again meanwhile: that new user is never touched).
 */
export async function releaseRemovedUser(username: string, removedBy: string): Promise<boolean> {
  try {
    await documentDbClient().send(
      new DeleteCommand({
        TableName: config.usersTable,
        Key: { Username: username },
        ConditionExpression: "attribute_exists(#removed) AND #removed <= :by",
        ExpressionAttributeNames: { "#removed": "Removed" },
        ExpressionAttributeValues: { ":by": removedBy },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Every user, then every tombstone, for the operator's `list` command: Queries on the ByKind
 * index, never a Scan.
 */
export async function listUsers(): Promise<UserRecord[]> {
  const kinds = await Promise.all(
    [USER_KIND, REMOVED_KIND].map((kind) =>
      queryAll<UserRecord>({
        TableName: config.usersTable,
        IndexName: BY_KIND_INDEX,
        KeyConditionExpression: "Kind = :kind",
        ExpressionAttributeValues: { ":kind": kind },
      }),
    ),
  );
  return kinds.flat();
}
