/**
 * Starts, stops, kills and deletes larger than one API call does itself (FANOUT_INLINE_JOBS,
 * here 20 of a 50-job session): the call answers what it did, the session shows the fan-out in
 * progress, and backend pages of 15 (FANOUT_PAGE_JOBS) converge it, each job changed once
 * (core/sessions/fan-out.ts); duplicated and redelivered pages change nothing twice; and
 * GET /session/{sid} of a session larger than one listing (SESSION_LISTING_MAX_JOBS, here 30)
 * answers 413 with how to page, and pages. Claim transactions that DynamoDB cancels for a
 * conflict, or without saying why (which moto never does: injected), lose and double nothing.
 *
 * The fan-out pages of this file go to a queue of its own, polled only while a test says so:
 * other test files' backends poll the stack's fan-out queue, and could run these pages before a
 * test has looked at the fan-out in progress.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import test from "ava";
import type { SessionSummary } from "../../client/api-client.ts";
import { type AnyClient, useClientPlugin } from "../../core/aws/clients.ts";
import { sqsClient } from "../../core/aws/sqs-client.ts";
import { config } from "../../core/config.ts";
import { listSessionJobs } from "../../core/jobs/job-store.ts";
import { readClaimed } from "../../core/results/result-store.ts";
import { type FanOutMessage, sendFanOutPage } from "../../core/sessions/fan-out-store.ts";
import { findSession } from "../../core/sessions/session-store.ts";
import { type SqsTrigger, startSqsTrigger } from "../../local/runtime/sqs-trigger.ts";
import { newUser, startUpdateProcessor, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

type ClaimItem = { Update?: { TableName?: string; ExpressionAttributeValues?: Record<string, unknown> } };

/** Claim transactions to cancel: as conflicting (TransactionConflict), or with no reasons at all. */
const faults = { conflicts: 0, unclear: 0, claimTransactions: 0 };
useClientPlugin((client: AnyClient) => {
  (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: { TransactItems?: ClaimItem[] } }) => {
        const items = args.input.TransactItems;
        // Only start's claims (→ submit): this process's update processor, started by the kill
        // test, also writes jobs in transactions, when any test file's worker ends a job of ours.
        const isClaim =
          context.commandName === "TransactWriteItemsCommand" &&
          items?.[0]?.Update?.TableName === config.jobsTable &&
          items[0].Update.ExpressionAttributeValues?.[":to"] === "submit";
        if (isClaim) {
          faults.claimTransactions++;
          if (faults.conflicts > 0 || faults.unclear > 0) {
            const conflict = faults.conflicts > 0;
            if (conflict) faults.conflicts--;
            else faults.unclear--;
            throw new TransactionCanceledException({
              message: "injected: transaction cancelled",
              $metadata: {},
              ...(conflict
                ? { CancellationReasons: items.map(() => ({ Code: "TransactionConflict" })) }
                : {}),
            });
          }
        }
        return next(args);
      },
    { step: "initialize", name: "claimFaults", override: true },
  );
});

process.env.FANOUT_INLINE_JOBS = "20";
process.env.FANOUT_PAGE_JOBS = "15";
process.env.SESSION_LISTING_MAX_JOBS = "30";

let queueUrl = "";
test.before(async () => {
  const created = await sqsClient().send(new CreateQueueCommand({ QueueName: uniqueName("fanout-test") }));
  queueUrl = created.QueueUrl ?? "";
  process.env.FANOUT_QUEUE_URL = queueUrl;
});
test.after.always(stopAll);

/** Runs `work` while this file's fan-out queue is polled (as Lambda's event source mapping does). */
async function withBackend<T>(work: (trigger: SqsTrigger) => Promise<T>): Promise<T> {
  const { handler } = await import("../../handlers/fan-out.ts");
  const trigger = await startSqsTrigger({
    queueUrl,
    functionName: "fan-out",
    handler: (event, context) => handler(event, context),
    batchSize: 1,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 1,
  });
  try {
    return await work(trigger);
  } finally {
    await trigger.stop();
  }
}

/** Reads until `done` holds (at most a minute of polls): the backend converges meanwhile. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let poll = 0; !done(value) && poll < 240; poll++) {
    await sleep(250);
    value = await read();
  }
  return value;
}

async function sessionWith(user: TestUser, jobs: number) {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  const ids = await user.client.append(
    sid,
    Array.from({ length: jobs }, (_, i) => ({ Simulation: sim, Input: { i } })),
  );
  return { sim, sid, ids };
}

const settled = (summary: SessionSummary) => summary.FanOut === null;

test.serial(
  "a start over the budget answers what it claimed, shows its fan-out, and the backend submits every other job once",
  async (t) => {
    const user = await newUser();
    const { sid, ids } = await sessionWith(user, 50);
    const neighbour = await sessionWith(user, 5);

    const answered = await user.client.start(sid);

    t.is(answered.length, 20, "the call claims its budget itself");
    t.is(new Set(answered).size, 20);
    t.true(answered.every((id) => ids.includes(id)));
    const during = await user.client.sessionSummary(sid);
    t.like(during, { State: "open", FanOut: { Kind: "start", Jobs: 20 } });
    t.like(during.Counts, { submit: 20, create: 30 });
    const listing = await user.call("GET", `/session/${sid}?page=1&rpp=5`);
    t.is(listing.status, 200);
    t.regex(listing.headers.get("foqus-fan-out") ?? "", /^start; since=\S+; jobs=20; page=1$/);

    const after = await withBackend(() => until(() => user.client.sessionSummary(sid), settled));

    t.like(after.Counts, { submit: 50, create: 0 });
    const jobs = await listSessionJobs(sid);
    t.true(jobs.every((job) => job.State === "submit" && job.Submit !== undefined));
    t.is(await readClaimed(sid), 50, "each job claimed, and counted, exactly once");
    t.like((await user.client.sessionSummary(neighbour.sid)).Counts, { create: 5, submit: 0 });
    t.deepEqual(await user.client.start(sid), [], "nothing left to claim");
    t.is((await user.call("GET", `/session/${sid}?page=1`)).headers.get("foqus-fan-out"), null);
  },
);

test.serial("a stop ends a start's fan-out: the pages queued before it claim nothing", async (t) => {
  const user = await newUser();
  const { sid } = await sessionWith(user, 50);
  t.is((await user.client.start(sid)).length, 20);

  t.is(await user.client.stop(sid), sid);

  const stopped = await user.client.sessionSummary(sid);
  t.is(stopped.FanOut, null);
  t.like(stopped.Counts, { pause: 20, create: 30, submit: 0 });
  // The start's first page was queued before the stop: it runs, finds its fan-out gone, and stops.
  await withBackend((trigger) =>
    until(
      async () => trigger.invocations,
      (n) => n >= 1,
    ),
  );
  t.like((await user.client.sessionSummary(sid)).Counts, { pause: 20, create: 30, submit: 0 });
  t.is(await readClaimed(sid), 20);
});

test.serial(
  "a kill over the budget ends every unfinished job, the rest by backend pages, and stops a start's fan-out",
  async (t) => {
    await startUpdateProcessor(); // applies the terminate events
    const user = await newUser();
    const { sim, sid } = await sessionWith(user, 50);
    t.is((await user.client.start(sid)).length, 20); // a start fan-out is queued

    t.is(await user.client.kill(sid), sid);

    const during = await user.client.sessionSummary(sid);
    t.like(during, { State: "killed", FanOut: { Kind: "kill", Jobs: 20 } });
    const append = await user.call("POST", `/session/${sid}`, { body: [{ Simulation: sim, Input: {} }] });
    t.is(append.status, 409);
    t.is(((await append.json()) as { error: string }).error, "SessionKilled");

    const after = await withBackend(() =>
      until(
        () => user.client.sessionSummary(sid),
        (summary) => settled(summary) && summary.Counts.terminate === 50,
      ),
    );

    t.like(after.Counts, { terminate: 50, create: 0, submit: 0 });
    t.is(after.Finished, 50);
    t.is(await readClaimed(sid), 20, "the start's fan-out claimed nothing after the kill");
  },
);

test.serial(
  "a delete over the budget answers every job, reads as deleting, and the backend removes it all",
  async (t) => {
    const user = await newUser();
    const { sim, sid } = await sessionWith(user, 50);
    t.is((await user.client.start(sid)).length, 20); // result items (the claimed count), and a start fan-out
    t.is(await readClaimed(sid), 20);

    const deleted = await user.client.deleteSession(sid);

    t.is(deleted, 50, "the number of jobs the session held");
    const summary = await user.client.sessionSummary(sid);
    t.like(summary, { State: "deleting", FanOut: { Kind: "delete", Jobs: 20 } });
    for (const [method, path, body] of [
      ["GET", `/session/${sid}`, undefined],
      ["POST", `/session/${sid}`, [{ Simulation: sim, Input: {} }]],
      ["POST", `/session/${sid}/start`, undefined],
      ["POST", `/session/${sid}/kill`, undefined],
    ] as const) {
      const response = await user.call(method, path, body ? { body } : {});
      t.is(response.status, 409, `${method} ${path}`);
      const error = (await response.json()) as { error: string; message: string };
      t.is(error.error, "SessionDeleting");
      t.regex(error.message, /404 SessionNotFound once gone/);
    }

    const gone = await withBackend(() =>
      until(
        async () => (await user.call("GET", `/session/${sid}/summary`)).status,
        (status) => status === 404,
      ),
    );

    t.is(gone, 404);
    t.deepEqual(await listSessionJobs(sid), []);
    t.is(await readClaimed(sid), 0, "its result items are gone too");
    t.false((await user.client.sessions()).includes(sid));
  },
);

test.serial(
  "a duplicated or redelivered page changes nothing twice, and a lost successor is sent again",
  async (t) => {
    const { runFanOutPage } = await import("../../core/sessions/fan-out.ts");
    const user = await newUser();
    // 65 jobs: 20 by the call, and even two runs of page 1 claiming 15 each leave a page 2.
    const { sid } = await sessionWith(user, 65);
    t.is((await user.client.start(sid)).length, 20);
    const fanOut = (await findSession(user.username, sid))?.FanOut;
    if (!fanOut) return t.fail("no fan-out recorded");
    const page1: FanOutMessage = { username: user.username, sessionId: sid, id: fanOut.Id, page: 1 };

    // Two copies of page 1 at once: both may claim, neither claims a job twice, one moves it on.
    const outcomes = await Promise.all([runFanOutPage(page1, false), runFanOutPage(page1, false)]);
    t.true(outcomes.includes("continued"), outcomes.join(", "));
    t.is((await findSession(user.username, sid))?.FanOut?.Page, 2);
    // A copy arriving later is dropped; the same message redelivered (its run may have died before
    // sending page 2) sends page 2 again, and nothing else.
    t.is(await runFanOutPage(page1, false), "duplicate");
    t.is(await runFanOutPage(page1, true), "resent");
    const claimed = await readClaimed(sid);
    t.true(claimed >= 35 && claimed <= 50, `${claimed}: 20 by the call, 15 or 30 by the two runs of page 1`);

    // Page 2 is now queued three times (page 1's runs, the resend): the pages converge once.
    await sendFanOutPage({ ...page1, page: 2 });
    const after = await withBackend(() => until(() => user.client.sessionSummary(sid), settled));
    t.like(after.Counts, { submit: 65, create: 0 });
    t.is(await readClaimed(sid), 65, "each job claimed and counted once");
    t.is(await runFanOutPage({ ...page1, page: 3 }, true), "superseded", "an ended fan-out runs no page");
  },
);

test.serial(
  "claims cancelled by a conflict go again; cancelled without reasons, they go one job at a time",
  async (t) => {
    const { startSession } = await import("../../core/sessions/session-control.ts");
    const user = await newUser();
    const conflicted = await sessionWith(user, 15);
    const unclear = await sessionWith(user, 15);

    faults.conflicts = 2;
    faults.claimTransactions = 0;
    const claimed = await startSession(user.username, conflicted.sid);
    t.is(faults.claimTransactions, 3, "two cancelled, the third commits");
    t.deepEqual([...claimed].sort(), [...conflicted.ids].sort());
    t.is(await readClaimed(conflicted.sid), 15);

    faults.unclear = 1;
    faults.claimTransactions = 0;
    const oneByOne = await startSession(user.username, unclear.sid);
    t.is(faults.claimTransactions, 16, "the batch, then each job in a transaction of its own");
    t.deepEqual([...oneByOne].sort(), [...unclear.ids].sort());
    t.is(await readClaimed(unclear.sid), 15);
    t.true((await listSessionJobs(unclear.sid)).every((job) => job.State === "submit"));
  },
);

test("GET /session/{sid} over the listing limit answers 413 with how to page, and pages cover every job once", async (t) => {
  const user = await newUser();
  const { sid, ids } = await sessionWith(user, 50);
  const small = await sessionWith(user, 30);

  const whole = await user.call("GET", `/session/${sid}`);
  t.is(whole.status, 413);
  const error = (await whole.json()) as { error: string; message: string };
  t.is(error.error, "SessionTooLarge");
  t.regex(error.message, new RegExp(`GET /session/${sid}\\?page=1&rpp=1000`));
  t.is(whole.headers.get("access-control-allow-origin"), "*");

  const seen: string[] = [];
  const sizes: number[] = [];
  for (let page = 1; ; page++) {
    const response = await user.call("GET", `/session/${sid}?page=${page}&rpp=20`);
    t.is(response.status, 200);
    t.is(response.headers.get("foqus-session-state"), "open");
    const jobs = (await response.json()) as { Id: string; Session: string }[];
    sizes.push(jobs.length);
    if (jobs.length === 0) break;
    t.true(jobs.every((job) => job.Session === sid));
    seen.push(...jobs.map((job) => job.Id));
  }
  t.deepEqual(sizes, [20, 20, 10, 0]);
  t.deepEqual([...seen].sort(), [...ids].sort());
  t.is(((await (await user.call("GET", `/session/${sid}?page=1`)).json()) as unknown[]).length, 50);

  // Within the limit: the whole session in append order, as always; page=0 means the same.
  t.deepEqual(
    (await user.client.jobs(small.sid)).map((job) => job.Id),
    small.ids,
  );
  const zero = (await (await user.call("GET", `/session/${small.sid}?page=0&rpp=1000`)).json()) as {
    Id: string;
  }[];
  t.deepEqual(
    zero.map((job) => job.Id),
    small.ids,
  );
  for (const query of ["page=x", "page=-1", "page=1&rpp=5001", "page=1&rpp=1e3"]) {
    const response = await user.call("GET", `/session/${sid}?${query}`);
    t.is(response.status, 400, query);
  }
});
