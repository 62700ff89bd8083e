/**
 * The local stream trigger (local/runtime/stream-trigger.ts) against a DynamoDB stream on moto,
 * on a table of its own: from its oldest record it hands over what was written before it
 * started; from now on (how tests on a shared emulator start it) it hands over only later
 * writes. An ignored start point once made every e2e file re-read every earlier suite's jobs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CreateTableCommand, DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import test from "ava";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { documentDbClient, dynamoDbClient } from "../../core/aws/dynamodb-client.ts";
import { startStreamTrigger } from "../../local/runtime/stream-trigger.ts";
import { uniqueName } from "../helpers/stack.ts";

async function streamedTable(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const TableName = uniqueName("stream");
  await dynamoDbClient().send(
    new CreateTableCommand({
      TableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
    }),
  );
  t.teardown(async () => {
    await dynamoDbClient().send(new DeleteTableCommand({ TableName }));
  });
  return TableName;
}

async function writeItem(TableName: string, id: string): Promise<void> {
  await documentDbClient().send(new PutCommand({ TableName, Item: { id } }));
}

/** Starts a trigger that records the ids it is handed, and waits until it has seen `last`. */
async function idsSeenUntil(
  TableName: string,
  startAt: "TRIM_HORIZON" | "LATEST",
  writeAfterStart: string,
): Promise<string[]> {
  const seen: string[] = [];
  const trigger = await startStreamTrigger({
    tableName: TableName,
    functionName: "recorder",
    idleMs: 50,
    startAt,
    handler: async (event: DynamoDBStreamEvent) => {
      for (const record of event.Records) seen.push(record.dynamodb?.Keys?.id?.S ?? "?");
      return undefined;
    },
  });
  try {
    await writeItem(TableName, writeAfterStart);
    for (let i = 0; i < 200 && !seen.includes(writeAfterStart); i++) await sleep(50);
  } finally {
    await trigger.stop();
  }
  return seen;
}

test("from the oldest record, a trigger hands over what was written before it started", async (t) => {
  const table = await streamedTable(t);
  await writeItem(table, "before");
  t.deepEqual(await idsSeenUntil(table, "TRIM_HORIZON", "after"), ["before", "after"]);
});

test("from now on, a trigger hands over only what is written after it started", async (t) => {
  const table = await streamedTable(t);
  await writeItem(table, "before");
  t.deepEqual(await idsSeenUntil(table, "LATEST", "after"), ["after"]);
});
