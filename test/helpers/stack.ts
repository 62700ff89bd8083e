/**
 * Test access to the stack that run-with-moto.ts applied: sets the functions' environment in
 * this process, and starts the local gateway (API Gateway stand-in) and update processor
 * triggers on demand. Every test makes its own users, so suites share one emulator safely.
 */
import "../../local/env/process-defaults.ts";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { FoqusClient } from "../../client/api-client.ts";
import { applyEnvironment, localEnvironment } from "../../local/env/stack.ts";
import type { StackOutputs } from "../../local/env/terraform.ts";
import { type BackendTriggers, startBackendTriggers } from "../../local/runtime/backend-triggers.ts";
import { type Gateway, startGateway } from "../../local/runtime/gateway.ts";

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

let backend: Promise<BackendTriggers> | undefined;
/**
 * The backend's triggers, started once per test file: the update processor (update queue and job
 * DLQs) and the submit publisher (the jobs table's stream).
 */
export function startUpdateProcessor(): Promise<BackendTriggers> {
  // Failed records come back after 1 s instead of the queue's own visibility.
  // The jobs stream is read from now on: it holds every earlier suite's jobs too.
  backend ??= startBackendTriggers(stack.outputs, {
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 1,
    streamFromNow: true,
  });
  return backend;
}

export async function stopAll(): Promise<void> {
  await Promise.all([gateway?.then((g) => g.close()), backend?.then((triggers) => triggers.stop())]);
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
