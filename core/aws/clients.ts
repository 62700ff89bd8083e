/**
 * @module aws/clients
 * What every SDK client shares: one per service per process, pointed at the emulator when
 * AWS_ENDPOINT_URL is set, traced with X-Ray, and open to plugins (request counting for
 * benchmarks, fault injection for tests of what moto cannot produce). Each service's client is
 * constructed in its own module (dynamodb-client.ts, s3-client.ts, sns-client.ts, sqs-client.ts,
 * scheduler-client.ts, auto-scaling-client.ts), so a Lambda bundle carries only the SDK clients
 * its function uses; this module imports no client.
 */
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SchedulerClient } from "@aws-sdk/client-scheduler";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
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

/** Region, and the emulator's endpoint when AWS_ENDPOINT_URL is set: every client's options. */
export function clientOptions(): { region: string; endpoint?: string } {
  const endpoint = config.awsEndpoint;
  return {
    region: config.region,
    ...(endpoint ? { endpoint } : {}),
  };
}

/**
 * The process's one client of `service`: created by `create` on first use, traced, and given
 * every plugin. Called only by the per-service client modules.
 */
export function sharedClient<T extends AnyClient>(service: string, create: () => T): T {
  let client = cache.get(service) as T | undefined;
  if (!client) {
    client = tracer.captureAWSv3Client(create());
    // The SDK hands every request's input and output to its `logger`, which no client here is
    // given (its default discards them), after walking both to mask sensitive fields: CPU spent
    // on every request for nothing (the worker's profile, in the README's benchmark section).
    client.middlewareStack.remove("loggerMiddleware");
    for (const plugin of plugins) plugin(client, service);
    cache.set(service, client);
  }
  return client;
}
