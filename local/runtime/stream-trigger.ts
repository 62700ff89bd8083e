/**
 * @module local/runtime/stream-trigger
 * A local stand-in for a Lambda DynamoDB-stream event-source mapping (moto cannot run Lambdas):
 * reads every shard of a table's stream (from its oldest record, or from now), invokes the handler with the
 * Lambda stream event, and moves on only past what the handler took: a thrown error, or a
 * reported batch item failure, makes the same records (from the failed one) come again after a
 * pause, as Lambda retries a stream batch.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { dynamoDbClient } from "../../core/aws/dynamodb-client.ts";
import { config } from "../../core/config.ts";
import { lambdaContext } from "./lambda-context.ts";

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;

export interface StreamTriggerOptions {
  tableName: string;
  functionName: string;
  handler: StreamHandler;
  batchSize?: number;
  /** Pause after an empty read or a failed batch. */
  idleMs?: number;
  /**
   * Where to start: the oldest record (a fresh stack, as the AWS mapping starts), or only what is
   * written from now on (tests that share one emulator, whose stream holds other suites' jobs).
   */
  startAt?: "TRIM_HORIZON" | "LATEST";
  onError?: (error: unknown) => void;
}

export interface StreamTrigger {
  stop(): Promise<void>;
  /** Batches handed to the handler so far. */
  readonly invocations: number;
}

function toRecord(record: _Record, streamArn: string): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord["eventName"],
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: record.awsRegion ?? config.region,
    eventSourceARN: streamArn,
    dynamodb: record.dynamodb as DynamoDBRecord["dynamodb"],
  };
}

export async function startStreamTrigger(options: StreamTriggerOptions): Promise<StreamTrigger> {
  const { Table } = await dynamoDbClient().send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn)
    throw new Error(`Table ${options.tableName} has no stream; Terraform enables it on the jobs table.`);
  const streams = new DynamoDBStreamsClient({
    region: config.region,
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
  });
  const idleMs = options.idleMs ?? 200;
  let running = true;
  let invocations = 0;

  async function shardIterator(shardId: string): Promise<string | undefined> {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: options.startAt ?? "TRIM_HORIZON",
      }),
    );
    return ShardIterator;
  }

  async function pollShard(first: string | undefined): Promise<void> {
    let iterator = first;
    let pending: _Record[] = [];
    while (running && iterator) {
      try {
        if (pending.length === 0) {
          const page = await streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: options.batchSize ?? 100 }),
          );
          pending = page.Records ?? [];
          iterator = page.NextShardIterator;
          if (pending.length === 0) {
            await sleep(idleMs);
            continue;
          }
        }
        invocations += 1;
        const result = await options.handler(
          { Records: pending.map((record) => toRecord(record, streamArn!)) },
          lambdaContext(options.functionName),
        );
        const failed = result?.batchItemFailures?.[0]?.itemIdentifier;
        if (failed === undefined) {
          pending = [];
        } else {
          // Retry from the failed record on, as Lambda does for a stream.
          pending = pending.slice(
            Math.max(
              0,
              pending.findIndex((r) => r.dynamodb?.SequenceNumber === failed),
            ),
          );
          await sleep(idleMs);
        }
      } catch (error) {
        if (!running) break;
        options.onError?.(error);
        await sleep(idleMs * 5);
      }
    }
  }

  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  // Every iterator is taken before this returns: "from now on" must mean from the caller's now,
  // not from whenever a loop got around to asking (a write in between would be missed).
  const iterators = await Promise.all(
    (StreamDescription?.Shards ?? []).map((shard) => shardIterator(shard.ShardId ?? "")),
  );
  const loops = iterators.map((iterator) => pollShard(iterator));
  return {
    get invocations() {
      return invocations;
    },
    async stop() {
      running = false;
      await Promise.allSettled(loops);
      streams.destroy();
    },
  };
}
