/**
 * @module aws/dynamo-batch
 * DynamoDB reads and writes of any number of items: BatchWriteItem and BatchGetItem chunked to
 * the service limits and retrying unprocessed items with backoff (the SDK retries errors, not
 * unprocessed items), and Queries followed to their last page.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  paginateQuery,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "./dynamodb-client.ts";
import { backoff, MAX_UNPROCESSED_ROUNDS } from "./retry.ts";

const BATCH_WRITE_LIMIT = 25; // DynamoDB BatchWriteItem: 25 requests per call
const BATCH_GET_LIMIT = 100; // DynamoDB BatchGetItem: 100 keys per call

export type WriteRequest = NonNullable<BatchWriteCommandOutput["UnprocessedItems"]>[string][number];

/** Writes all requests, 25 a call, retrying unprocessed items with backoff; throws if they never go. */
export async function batchWrite(table: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new Error(
          `DynamoDB left ${pending.length} writes to ${table} unprocessed after ${round} rounds`,
        );
      }
      if (round > 0) await backoff(round);
      const result = await documentDbClient().send(
        new BatchWriteCommand({ RequestItems: { [table]: pending } }),
      );
      pending = result.UnprocessedItems?.[table] ?? [];
    }
  }
}

/**
 * Gets items by key, 100 a call, retrying unprocessed keys; consistent reads; optionally only
 * `attributes`. `signal` aborts the calls (a caller's deadline).
 */
export async function batchGet<T>(
  table: string,
  keys: Record<string, unknown>[],
  attributes?: string[],
  options: { signal?: AbortSignal | undefined } = {},
): Promise<T[]> {
  const items: T[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_LIMIT);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new Error(
          `DynamoDB left ${pending.length} reads of ${table} unprocessed after ${round} rounds`,
        );
      }
      if (round > 0) await backoff(round);
      const result: BatchGetCommandOutput = await documentDbClient().send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: true,
              ...projectionOf(attributes),
            },
          },
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      items.push(...((result.Responses?.[table] ?? []) as T[]));
      pending = (result.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return items;
}

/** A ProjectionExpression with every name aliased (State, Key… are reserved words). */
function projectionOf(attributes: string[] | undefined) {
  if (!attributes || attributes.length === 0) return {};
  return {
    ProjectionExpression: attributes.map((_, i) => `#p${i}`).join(", "),
    ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#p${i}`, name])),
  };
}

/** Every item a Query matches, following LastEvaluatedKey page by page. */
export async function queryAll<T>(input: QueryCommandInput): Promise<T[]> {
  const items: T[] = [];
  for await (const page of paginateQuery({ client: documentDbClient() }, input)) {
    items.push(...((page.Items ?? []) as T[]));
  }
  return items;
}
