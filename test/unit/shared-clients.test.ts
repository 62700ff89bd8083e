/**
 * What every process's SDK clients share (core/aws/clients.ts, core/aws/client-modules.ts): no
 * per-request work for the SDK's logger, which nothing here reads, and client modules loaded
 * once and then held.
 */
import test from "ava";
import { s3Module, snsModule, sqsModule } from "../../core/aws/client-modules.ts";
import { documentDbClient, dynamoDbClient } from "../../core/aws/dynamodb-client.ts";

const loggerSteps = (stack: { identify(): string[] }) =>
  stack.identify().filter((step) => /logger/i.test(step));

test("the shared clients run no logger middleware, the document client included", async (t) => {
  t.deepEqual(loggerSteps(dynamoDbClient().middlewareStack), []);
  t.deepEqual(loggerSteps(documentDbClient().middlewareStack), []);
  const { s3Client } = await s3Module();
  const { snsClient } = await snsModule();
  const { sqsClient } = await sqsModule();
  for (const client of [s3Client(), snsClient(), sqsClient()])
    t.deepEqual(loggerSteps(client.middlewareStack), []);
});

test("a client module is loaded once and then held", async (t) => {
  t.is(s3Module(), s3Module());
  t.is(await snsModule(), await snsModule());
  t.is(sqsModule(), sqsModule());
});
