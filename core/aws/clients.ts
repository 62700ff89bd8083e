/**
 * @module aws/clients
 * The only place SDK clients are constructed: one per service per process, pointed at the
 * emulator when AWS_ENDPOINT_URL is set, traced with X-Ray, and open to plugins (request counting
 * for benchmarks, fault injection for tests of what moto cannot produce).
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { tracer } from "../observability.ts";
import { faultPlugin } from "./fault-plugin.ts";

/** Anything with a middleware stack: every SDK v3 client. */
export type AnyClient =
  | DynamoDBClient
  | S3Client
  | SNSClient
  | SQSClient
  | SchedulerClient
  | AutoScalingClient;
export type ClientPlugin = (client: AnyClient, service: string) => void;

const plugins: ClientPlugin[] = [];

// The soak run's fault injection (aws/fault-plugin.ts): only against an emulator, never on AWS.
const faultRate = Number(process.env.FOQUS_FAULT_RATE ?? 0);
if (faultRate > 0 && config.awsEndpoint) plugins.push(faultPlugin(faultRate));
const cache = new Map<string, AnyClient>();

/** Registers a plugin for clients created from now on (call before the first request). */
export function useClientPlugin(plugin: ClientPlugin): void {
  plugins.push(plugin);
  for (const [service, client] of cache) plugin(client, service);
}

function commonOptions() {
  const endpoint = config.awsEndpoint;
  return {
    region: config.region,
    ...(endpoint ? { endpoint } : {}),
  };
}

function memo<T extends AnyClient>(service: string, create: () => T): T {
  let client = cache.get(service) as T | undefined;
  if (!client) {
    client = tracer.captureAWSv3Client(create());
    for (const plugin of plugins) plugin(client, service);
    cache.set(service, client);
  }
  return client;
}

export function dynamoDbClient(): DynamoDBClient {
  return memo("DynamoDB", () => new DynamoDBClient(commonOptions()));
}

let documentClient: DynamoDBDocumentClient | undefined;
/** Document client over the shared DynamoDB client; empty strings and undefined are dropped. */
export function documentDbClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documentClient;
}

export function s3Client(): S3Client {
  return memo(
    "S3",
    () =>
      new S3Client({
        ...commonOptions(),
        // moto serves path-style only; harmless on AWS for our bucket names.
        forcePathStyle: Boolean(config.awsEndpoint),
        // Presigned PUTs must not embed the checksum of an empty body (see notes/moto.md).
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
  );
}

export function snsClient(): SNSClient {
  return memo("SNS", () => new SNSClient(commonOptions()));
}

export function sqsClient(): SQSClient {
  return memo("SQS", () => new SQSClient(commonOptions()));
}

export function schedulerClient(): SchedulerClient {
  return memo("Scheduler", () => new SchedulerClient(commonOptions()));
}

/** Workers only: their own instance's scale-in protection and termination hook. */
export function autoScalingClient(): AutoScalingClient {
  return memo("AutoScaling", () => new AutoScalingClient(commonOptions()));
}
