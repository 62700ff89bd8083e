/**
 * Test access to the stack that run-with-moto.ts applied: sets the functions' environment in
 * this process, and starts the local gateway (API Gateway stand-in) and update processor
 * triggers on demand. Every test makes its own users, so suites share one emulator safely.
 */
import "../../local/env/process-defaults.ts";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { SQSEvent } from "aws-lambda";
import { FoqusClient } from "../../client/api-client.ts";
import { applyEnvironment, localEnvironment } from "../../local/env/stack.ts";
import type { StackOutputs } from "../../local/env/terraform.ts";
import { type Gateway, startGateway } from "../../local/runtime/gateway.ts";
import { type SqsTrigger, startSqsTrigger } from "../../local/runtime/sqs-trigger.ts";

const stackFile = process.env.FOQUS_TEST_STACK;
if (!stackFile) {
  throw new Error(
    "FOQUS_TEST_STACK is not set: run these tests with `make test-moto` (test/helpers/run-with-moto.ts).",
  );
}
export const stack = JSON.parse(readFileSync(stackFile, "utf8")) as {
  endpoint: string;
  outputs: StackOutputs;
};
export const env = localEnvironment(stack.outputs, stack.endpoint);
applyEnvironment(env);

let gateway: Promise<Gateway> | undefined;
/** The local API, started once per test file. */
export function api(): Promise<Gateway> {
  gateway ??= startGateway();
  return gateway;
}

let processor: Promise<SqsTrigger[]> | undefined;
/** The update processor, polling the update queue and the job DLQs, started once per test file. */
export function startUpdateProcessor(): Promise<SqsTrigger[]> {
  processor ??= (async () => {
    const { handler } = await import("../../handlers/update-processor.ts");
    const queues = [
      stack.outputs.update_queue_url,
      ...Object.values(stack.outputs.job_dead_letter_queue_urls),
    ];
    return Promise.all(
      queues.map((queueUrl) =>
        startSqsTrigger({
          queueUrl,
          functionName: "update-processor",
          waitTimeSeconds: 1,
          // Failed records come back after 1 s instead of the queue's 60 s.
          visibilityTimeoutSeconds: 1,
          handler: (event: SQSEvent, context) => handler(event, context),
        }),
      ),
    );
  })();
  return processor;
}

export async function stopAll(): Promise<void> {
  await Promise.all([
    gateway?.then((g) => g.close()),
    processor?.then((triggers) => Promise.all(triggers.map((trigger) => trigger.stop()))),
  ]);
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

export interface TestUser {
  username: string;
  password: string;
  /** The API client, as this user. */
  client: FoqusClient;
  /** The raw request against the local API with this user's Basic credentials (client.send). */
  call: FoqusClient["send"];
}

export async function newUser(
  options: { admin?: boolean; plan?: "free" | "premium" } = {},
): Promise<TestUser> {
  const { createUser } = await import("../../core/users/user-store.ts");
  const username = uniqueName("user");
  const password = `pw-${randomUUID()}`;
  await createUser({
    username,
    password,
    plan: options.plan ?? "free",
    roles: options.admin ? ["admin"] : [],
  });
  const { url } = await api();
  const client = new FoqusClient(url, username, password);
  return { username, password, client, call: client.send.bind(client) };
}

/** PUTs `body` to a presigned S3 URL as the turbine client does (no auth, an empty Content-Type). */
export async function putToPresignedUrl(location: string | null, body: string): Promise<number> {
  if (!location) throw new Error("the response carried no Location to upload to");
  const response = await fetch(location, { method: "PUT", body, headers: { "content-type": "" } });
  return response.status;
}
