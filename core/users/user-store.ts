/**
 * @module users/user-store
 * The users table: one item per user, keyed by `Username`. Only the admin command creates,
 * removes or re-passwords users; the API reads them and changes plans.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { queryAll } from "../aws/dynamo-batch.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { hashPassword, passwordProblem } from "./password.ts";
import { assertValidUsername, type Plan, Plans, type Role } from "./user.ts";

/** Every user item carries `Kind = "user"`, the partition key of the `ByKind` index that lists them. */
const USER_KIND = "user";
const BY_KIND_INDEX = "ByKind";

export interface UserRecord {
  Username: string;
  Kind?: typeof USER_KIND;
  PasswordHash: string;
  Plan: Plan;
  Roles: Role[];
  Created: string;
  PlanChanged?: string;
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
        ConditionExpression: "attribute_exists(Username)",
        ExpressionAttributeValues: values,
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes as UserRecord;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw userNotFound(username);
    throw error;
  }
}

export async function removeUser(username: string): Promise<void> {
  try {
    await documentDbClient().send(
      new DeleteCommand({
        TableName: config.usersTable,
        Key: { Username: username },
        ConditionExpression: "attribute_exists(Username)",
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw userNotFound(username);
    throw error;
  }
}

/** Every user, for the operator's `list` command: a Query on the ByKind index, never a Scan. */
export async function listUsers(): Promise<UserRecord[]> {
  return queryAll<UserRecord>({
    TableName: config.usersTable,
    IndexName: BY_KIND_INDEX,
    KeyConditionExpression: "Kind = :kind",
    ExpressionAttributeValues: { ":kind": USER_KIND },
  });
}
