/**
 * @module simulations/simulation-store
 * The simulations table, keyed by (Username, Name): each user has their own namespace of
 * simulations, so another user's simulation of the same name is a different one.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, queryAll } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { NotFoundError } from "../errors.ts";
import type { Simulation } from "./simulation.ts";

export interface SimulationRecord extends Simulation {
  Username: string;
  Created: string;
  Updated: string;
}

export function simulationNotFound(name: string): NotFoundError {
  return new NotFoundError(
    "SimulationNotFound",
    `Simulation "${name}" does not exist for this user; create it with PUT /simulation/${name}.`,
  );
}

export function recordToSimulation(record: SimulationRecord): Simulation {
  return { Name: record.Name, Application: record.Application, StagedInputs: record.StagedInputs ?? [] };
}

export async function findSimulation(username: string, name: string): Promise<SimulationRecord | undefined> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.simulationsTable,
      Key: { Username: username, Name: name },
      ConsistentRead: true,
    }),
  );
  return Item as SimulationRecord | undefined;
}

export async function getSimulation(username: string, name: string): Promise<SimulationRecord> {
  const record = await findSimulation(username, name);
  if (!record) throw simulationNotFound(name);
  return record;
}

/** The named simulations that exist for the user. */
export async function findSimulations(
  username: string,
  names: string[],
): Promise<Map<string, SimulationRecord>> {
  const keys = [...new Set(names)].map((Name) => ({ Username: username, Name }));
  const records = await batchGet<SimulationRecord>(config.simulationsTable, keys);
  return new Map(records.map((record) => [record.Name, record]));
}

export async function listSimulations(username: string): Promise<SimulationRecord[]> {
  return queryAll<SimulationRecord>({
    TableName: config.simulationsTable,
    KeyConditionExpression: "Username = :u",
    ExpressionAttributeValues: { ":u": username },
  });
}

/** Creates the simulation, or changes its application keeping its staged inputs. */
export async function putSimulation(
  username: string,
  name: string,
  application: string,
  clock: Clock = systemClock,
): Promise<SimulationRecord> {
  const now = isoNow(clock);
  const { Attributes } = await documentDbClient().send(
    new UpdateCommand({
      TableName: config.simulationsTable,
      Key: { Username: username, Name: name },
      UpdateExpression:
        "SET Application = :app, Updated = :now, Created = if_not_exists(Created, :now), StagedInputs = if_not_exists(StagedInputs, :none)",
      ExpressionAttributeValues: { ":app": application, ":now": now, ":none": [] },
      ReturnValues: "ALL_NEW",
    }),
  );
  return Attributes as SimulationRecord;
}

/** Records that `path` is staged (idempotent); the simulation must exist. */
export async function addStagedInput(
  username: string,
  name: string,
  path: string,
  clock: Clock = systemClock,
): Promise<SimulationRecord> {
  const record = await getSimulation(username, name);
  if (record.StagedInputs.includes(path)) return record;
  try {
    const { Attributes } = await documentDbClient().send(
      new UpdateCommand({
        TableName: config.simulationsTable,
        Key: { Username: username, Name: name },
        UpdateExpression: "SET StagedInputs = list_append(StagedInputs, :path), Updated = :now",
        // Appending only when absent keeps the list a set under concurrent uploads.
        ConditionExpression: "attribute_exists(#name) AND NOT contains(StagedInputs, :p)",
        ExpressionAttributeNames: { "#name": "Name" },
        ExpressionAttributeValues: { ":path": [path], ":p": path, ":now": isoNow(clock) },
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes as SimulationRecord;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return getSimulation(username, name);
    throw error;
  }
}

export async function deleteSimulationRecord(username: string, name: string): Promise<SimulationRecord> {
  try {
    const { Attributes } = await documentDbClient().send(
      new DeleteCommand({
        TableName: config.simulationsTable,
        Key: { Username: username, Name: name },
        ConditionExpression: "attribute_exists(#name)",
        ExpressionAttributeNames: { "#name": "Name" },
        ReturnValues: "ALL_OLD",
      }),
    );
    return Attributes as SimulationRecord;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw simulationNotFound(name);
    throw error;
  }
}
