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
  "a start whose publishing fails half-way leaves only the unsent jobs to submit again",
  async (t) => {
    const { startSession } = await import("../../core/sessions/session-control.ts");
    const username = uniqueName("user");
    const sim = uniqueName("sim");
    await putSimulation(username, sim, "fake");
    const { SessionId } = await createSession(username);
    const ids = await appendJobs(
      username,
      SessionId,
      Array.from({ length: 15 }, (_, i) => ({ Simulation: sim, Input: { i } })),
    );
    // 15 events go out as a batch of 10 and a batch of 5: the second batch meets an outage.
    faults.publishCallsBeforeOutage = 1;
    await t.throwsAsync(startSession(username, SessionId), { message: /SNS unavailable/ });
    const afterFailure = await listSessionJobs(SessionId);
    t.is(afterFailure.filter((job) => job.State === "submit").length, 10);
    t.is(afterFailure.filter((job) => job.State === "create").length, 5);
    // The client's retry submits exactly the five that were not sent.
    const retried = await startSession(username, SessionId);
    t.is(retried.length, 5);
    t.deepEqual(
      retried.sort(),
      afterFailure
        .filter((job) => job.State === "create")
        .map((job) => job.JobId)
        .sort(),
    );
    t.true((await listSessionJobs(SessionId)).every((job) => job.State === "submit"));
    t.is(ids.length, 15);
  },
);
