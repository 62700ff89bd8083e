/**
 * The benchmark's counting plugin on real SDK clients whose HTTP is answered in-process: it asks
 * DynamoDB for its consumed capacity, sums it, falls back to the rules where a response reports
 * none, counts SNS publishes per message, and leaves the callers' requests and responses as they
 * would be without it.
 */
import { Readable } from "node:stream";
import { DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import test from "ava";
import { countingPlugin, newCounts, type RequestCounts } from "../../core/aws/request-counter.ts";

interface Sent {
  body: string;
}

/** A request handler that answers every request with `reply(body)`, recording what was sent. */
function answering(reply: (body: string) => { status?: number; body: string; type?: string }, sent: Sent[]) {
  return {
    handle: async (request: { body?: unknown }) => {
      const body =
        typeof request.body === "string"
          ? request.body
          : request.body instanceof Uint8Array
            ? Buffer.from(request.body).toString("utf8")
            : "";
      sent.push({ body });
      const answer = reply(body);
      return {
        response: {
          statusCode: answer.status ?? 200,
          headers: { "content-type": answer.type ?? "application/x-amz-json-1.0" },
          body: Readable.from([Buffer.from(answer.body)]),
        },
      };
    },
  };
}

const credentials = { accessKeyId: "test", secretAccessKey: "test" };

function dynamoDb(
  counts: RequestCounts,
  reply: (body: string) => { status?: number; body: string },
  sent: Sent[],
) {
  const client = new DynamoDBClient({
    region: "us-east-1",
    credentials,
    requestHandler: answering(reply, sent),
  });
  countingPlugin(counts)(client, "DynamoDB");
  return client;
}

test("asks for the consumed capacity, sums it, and hands the caller the response without it", async (t) => {
  const counts = newCounts();
  const sent: Sent[] = [];
  const client = dynamoDb(
    counts,
    () => ({
      body: JSON.stringify({
        Item: { pk: { S: "a" } },
        ConsumedCapacity: { TableName: "t", CapacityUnits: 0.5 },
      }),
    }),
    sent,
  );
  const output = await client.send(new GetItemCommand({ TableName: "t", Key: { pk: { S: "a" } } }));
  t.is(JSON.parse(sent[0]!.body).ReturnConsumedCapacity, "TOTAL");
  t.is(output.ConsumedCapacity, undefined, "the caller did not ask for it");
  t.deepEqual(output.Item, { pk: { S: "a" } });
  t.deepEqual(counts.capacity?.["DynamoDB.GetItem"]?.reported, { read: 0.5, write: 0 });
  t.is(counts.capacity?.["DynamoDB.GetItem"]?.reportedRequests, 1);
  t.is(counts.requests["DynamoDB.GetItem"], 1);
});

test("a caller that asks for the capacity itself gets it", async (t) => {
  const counts = newCounts();
  const sent: Sent[] = [];
  const client = dynamoDb(
    counts,
    () => ({ body: JSON.stringify({ ConsumedCapacity: { TableName: "t", CapacityUnits: 1 } }) }),
    sent,
  );
  const output = await client.send(
    new GetItemCommand({ TableName: "t", Key: { pk: { S: "a" } }, ReturnConsumedCapacity: "INDEXES" }),
  );
  t.is(JSON.parse(sent[0]!.body).ReturnConsumedCapacity, "INDEXES");
  t.is(output.ConsumedCapacity?.CapacityUnits, 1);
});

test("a response without consumed capacity is counted by the rules, and says so", async (t) => {
  const counts = newCounts();
  const client = dynamoDb(counts, () => ({ body: JSON.stringify({ ConsumedCapacity: [] }) }), []);
  await client.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: "t", Item: { pk: { S: "a" } } } },
        { Put: { TableName: "t", Item: { pk: { S: "b" } } } },
      ],
    }),
  );
  const capacity = counts.capacity?.["DynamoDB.TransactWriteItems"];
  t.is(capacity?.reportedRequests, 0);
  t.deepEqual(capacity?.byRuleUnreported, { read: 0, write: 4 }, "two puts, doubled");
});

test("the document client's plain values are sized as DynamoDB stores them", async (t) => {
  const counts = newCounts();
  const blob = "x".repeat(5000);
  const client = dynamoDb(
    counts,
    () => ({ body: JSON.stringify({ Item: { pk: { S: "a" }, blob: { S: blob } } }) }),
    [],
  );
  const documents = DynamoDBDocumentClient.from(client);
  const output = await documents.send(new GetCommand({ TableName: "t", Key: { pk: "a" } }));
  t.is(output.Item?.blob, blob);
  t.deepEqual(counts.capacity?.["DynamoDB.GetItem"]?.byRule, { read: 1, write: 0 }, "5 KB: two halves");
});

test("a failed conditional write is counted, and the caller still gets the failure", async (t) => {
  const counts = newCounts();
  const client = dynamoDb(
    counts,
    () => ({
      status: 400,
      body: JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        message: "The conditional request failed",
      }),
    }),
    [],
  );
  const { PutItemCommand } = await import("@aws-sdk/client-dynamodb");
  await t.throwsAsync(
    client.send(
      new PutItemCommand({
        TableName: "t",
        Item: { pk: { S: "a" } },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    ),
    { name: "ConditionalCheckFailedException" },
  );
  t.deepEqual(counts.capacity?.["DynamoDB.PutItem"]?.byRuleUnreported, { read: 0, write: 1 });
});

test("an SNS PublishBatch of ten is counted as one request and billed as ten", async (t) => {
  const counts = newCounts();
  const client = new SNSClient({
    region: "us-east-1",
    credentials,
    requestHandler: answering(
      () => ({
        type: "text/xml",
        body: "<PublishBatchResponse><PublishBatchResult><Successful/><Failed/></PublishBatchResult></PublishBatchResponse>",
      }),
      [],
    ),
  });
  countingPlugin(counts)(client, "SNS");
  await client.send(
    new PublishBatchCommand({
      TopicArn: "arn:aws:sns:us-east-1:123456789012:t",
      PublishBatchRequestEntries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), Message: "{}" })),
    }),
  );
  t.is(counts.requests["SNS.PublishBatch"], 1);
  t.is(counts.billed?.["SNS.PublishBatch"], 10);
});
