/**
 * What moto cannot produce (throttling that leaves items unprocessed, partial SNS batch
 * failures), injected as SDK middleware into the real clients: nothing is lost or doubled.
 */
import test from "ava";
import { type AnyClient, useClientPlugin } from "../../core/aws/clients.ts";
import { appendJobs } from "../../core/jobs/append-jobs.ts";
import { listSessionJobs } from "../../core/jobs/job-store.ts";
import { createSession } from "../../core/sessions/session-store.ts";
import { putSimulation } from "../../core/simulations/simulation-store.ts";
import { uniqueName } from "../helpers/stack.ts";

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;

/** Faults to inject, consumed one per matching command. */
const faults = {
  unprocessedWrites: 0,
  failedPublishEntries: 0,
  publishCallsBeforeOutage: -1,
  /** TransactWriteItems calls to let through before one fails with throttling (-1: none). */
  transactionsBeforeThrottle: -1,
  /** Claim transactions (TransactWriteItems of job updates) to let through before every later one fails with throttling (-1: none). */
  claimsBeforeThrottle: -1,
};
let publishCalls = 0;

useClientPlugin((client: AnyClient) => {
  (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      if (context.commandName === "BatchWriteItemCommand" && faults.unprocessedWrites > 0) {
        faults.unprocessedWrites -= 1;
        // Throttled: DynamoDB takes the first half and hands the rest back as unprocessed.
        const requestItems = args.input.RequestItems as Record<string, unknown[]>;
        const [table, requests] = Object.entries(requestItems)[0]!;
        const half = Math.ceil(requests.length / 2);
        const result = await next({
          ...args,
          input: { ...args.input, RequestItems: { [table]: requests.slice(0, half) } },
        });
        return {
          ...result,
          output: { ...result.output, UnprocessedItems: { [table]: requests.slice(half) } },
        };
      }
      if (context.commandName === "TransactWriteItemsCommand" && faults.transactionsBeforeThrottle >= 0) {
        if (faults.transactionsBeforeThrottle === 0) {
          faults.transactionsBeforeThrottle = -1;
          throw Object.assign(new Error("injected: rate of requests exceeds the allowed throughput"), {
            name: "ThrottlingException",
            $retryable: undefined,
          });
        }
        faults.transactionsBeforeThrottle -= 1;
      }
      const isClaim =
        context.commandName === "TransactWriteItemsCommand" &&
        (args.input.TransactItems as { Update?: unknown }[] | undefined)?.[0]?.Update !== undefined;
      if (isClaim && faults.claimsBeforeThrottle >= 0) {
        if (faults.claimsBeforeThrottle === 0) {
          throw Object.assign(new Error("injected: rate of requests exceeds the allowed throughput"), {
            name: "ThrottlingException",
          });
        }
        faults.claimsBeforeThrottle -= 1;
      }
      if (context.commandName === "PublishBatchCommand") {
        publishCalls += 1;
        if (faults.publishCallsBeforeOutage === 0) {
          faults.publishCallsBeforeOutage = -1;
          throw Object.assign(new Error("injected: SNS unavailable"), { name: "InternalErrorException" });
        }
        if (faults.publishCallsBeforeOutage > 0) faults.publishCallsBeforeOutage -= 1;
        if (faults.failedPublishEntries > 0) {
          faults.failedPublishEntries -= 1;
          const entries = args.input.PublishBatchRequestEntries as { Id: string }[];
          const [first, ...rest] = entries;
          const result = await next({ ...args, input: { ...args.input, PublishBatchRequestEntries: rest } });
          return {
            ...result,
            output: {
              ...result.output,
              Failed: [{ Id: first!.Id, Code: "InternalError", SenderFault: false, Message: "injected" }],
            },
          };
        }
      }
      return next(args);
    },
    { step: "initialize", name: "faultInjection", override: true },
  );
});

test.serial(
  "a session delete whose batched writes come back unprocessed retries them: every job is deleted",
  async (t) => {
    const { deleteSession } = await import("../../core/sessions/session-control.ts");
    const username = uniqueName("user");
    const sim = uniqueName("sim");
    await putSimulation(username, sim, "fake");
    const { SessionId } = await createSession(username);
    await appendJobs(
      username,
      SessionId,
      Array.from({ length: 60 }, (_, i) => ({ Simulation: sim, Input: { i } })),
    );
    faults.unprocessedWrites = 3;
    t.is(await deleteSession(username, SessionId), 60);
    t.is(faults.unprocessedWrites, 0, "the faults were injected");
    t.deepEqual(await listSessionJobs(SessionId), []);
  },
);

test.serial(
  "an append that fails half-way keeps nothing, and its retry stores every job exactly once",
  async (t) => {
    const username = uniqueName("user");
    const sim = uniqueName("sim");
    await putSimulation(username, sim, "fake");
    const { SessionId } = await createSession(username);
    const body = Array.from({ length: 250 }, (_, i) => ({ Simulation: sim, Input: { i } }));
    // 250 jobs and the append's record are three transactions: the third is throttled for good
    // (the SDK's own retries included: the fault is thrown before them).
    faults.transactionsBeforeThrottle = 2;
    await t.throwsAsync(appendJobs(username, SessionId, body), { message: /throughput/ });
    t.is(faults.transactionsBeforeThrottle, -1, "the fault was injected");
    t.deepEqual(await listSessionJobs(SessionId), [], "the first two transactions were rolled back");
    const ids = await appendJobs(username, SessionId, body);
    const stored = await listSessionJobs(SessionId);
    t.is(stored.length, 250);
    t.deepEqual(stored.map((job) => job.JobId).sort(), [...ids].sort());
  },
);

test.serial("a publish batch with a failed entry resends only that entry", async (t) => {
  const { publishEvents, newEvent } = await import("../../core/events/event-publisher.ts");
  faults.failedPublishEntries = 1;
  publishCalls = 0;
  const events = Array.from({ length: 3 }, (_, i) =>
    newEvent({ event: "session.stop", username: "u", session: `s-${i}` }),
  );
  await publishEvents(events);
  t.is(faults.failedPublishEntries, 0, "the fault was injected");
  t.is(publishCalls, 2, "one batch, then one retry of the failed entry");
});

test.serial(
  "a start that fails after some claims loses none: the claimed jobs reach the outbox, its retry claims the rest",
  async (t) => {
    const { startSession } = await import("../../core/sessions/session-control.ts");
    const { submitEventsOf } = await import("../../core/jobs/submit-outbox.ts");
    const username = uniqueName("user");
    const sim = uniqueName("sim");
    await putSimulation(username, sim, "fake");
    const { SessionId } = await createSession(username);
    const ids = await appendJobs(
      username,
      SessionId,
      Array.from({ length: 250 }, (_, i) => ({ Simulation: sim, Input: { i } })),
    );
    // Throttled for good after one claim transaction (the start dies or gives up there).
    faults.claimsBeforeThrottle = 1;
    await t.throwsAsync(startSession(username, SessionId), { message: /throughput/ });
    faults.claimsBeforeThrottle = -1;
    const afterFailure = await listSessionJobs(SessionId);
    const claimed = afterFailure.filter((job) => job.State === "submit").map((job) => job.JobId);
    t.true(claimed.length >= 1 && claimed.length < 250, `${claimed.length} claimed before the failure`);
    // Each claim is a change into submit, which the stream hands to the submit publisher.
    const asStreamRecords = afterFailure.map((job, i) => ({
      eventID: `r${i}`,
      eventName: "MODIFY" as const,
      dynamodb: {
        SequenceNumber: String(i),
        OldImage: { State: { S: "create" } },
        NewImage: {
          SessionId: { S: job.SessionId },
          JobId: { S: job.JobId },
          Username: { S: job.Username },
          State: { S: job.State },
        },
      },
    }));
    t.deepEqual(
      submitEventsOf(asStreamRecords)
        .map(({ event }) => event.job)
        .sort(),
      [...claimed].sort(),
    );
    // The client's retry claims exactly the ones left.
    const retried = await startSession(username, SessionId);
    t.deepEqual([...retried, ...claimed].sort(), [...ids].sort());
    t.true((await listSessionJobs(SessionId)).every((job) => job.State === "submit"));
    // Counted in the claims' own transactions: the failed one added nothing.
    const { readClaimed } = await import("../../core/results/result-store.ts");
    t.is(await readClaimed(SessionId), 250);
  },
);

test.serial(
  "the submit publisher reports the first record it could not publish, so it comes again",
  async (t) => {
    const { handler } = await import("../../handlers/submit-publisher.ts");
    const records = Array.from({ length: 15 }, (_, i) => ({
      eventID: `e${i}`,
      eventName: "MODIFY" as const,
      dynamodb: {
        SequenceNumber: String(1000 + i),
        OldImage: { State: { S: "create" } },
        NewImage: {
          SessionId: { S: "s" },
          JobId: { S: `j${i}` },
          Username: { S: "u" },
          State: { S: "submit" },
        },
      },
    }));
    // 15 events go out as a batch of 10 and a batch of 5: the second batch meets an outage.
    faults.publishCallsBeforeOutage = 1;
    const { lambdaContext } = await import("../../local/runtime/lambda-context.ts");
    const result = await handler({ Records: records }, lambdaContext("submit-publisher"));
    t.deepEqual(result.batchItemFailures, [{ itemIdentifier: "1010" }]);
    // Delivered again from there, the rest go out.
    t.deepEqual(
      (await handler({ Records: records.slice(10) }, lambdaContext("submit-publisher"))).batchItemFailures,
      [],
    );
  },
);
