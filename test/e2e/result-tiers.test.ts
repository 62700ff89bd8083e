/**
 * Result tiers end to end, through the API, with a worker, the update processor, the archiver and
 * the restorer (local/runtime/backend-triggers.ts) on one emulator. The grace period is set short
 * for this file only (the archive requests carry it, so no other suite's archiver judges by it).
 *
 * moto emits s3:ObjectRestore:Completed only on the next read of the restored object, not when
 * the restore is asked for. The restorer reads the object's status (HeadObject) right after
 * asking, as it does on AWS, where that read reports the restore as ongoing; on moto the same
 * read completes the restore and sends the notification (docs/result-tiers.md).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import test from "ava";
import type { FoqusClient, JobRecord } from "../../client/api-client.ts";
import { readReadyPages } from "../../client/result-pages.ts";
import { useClientPlugin } from "../../core/aws/clients.ts";
import { documentDbClient } from "../../core/aws/dynamodb-client.ts";
import { s3Client } from "../../core/aws/s3-client.ts";
import { snsClient } from "../../core/aws/sns-client.ts";
import { sqsClient } from "../../core/aws/sqs-client.ts";
import { config } from "../../core/config.ts";
import { newEvent, publishEvents } from "../../core/events/event-publisher.ts";
import { EventTypes } from "../../core/events/events.ts";
import { listUnits, UnitStates } from "../../core/tiers/archive-store.ts";
import { forgetArchiveSchedules } from "../../core/tiers/schedule-archive.ts";
import {
  newUser,
  stack,
  startUpdateProcessor,
  stopAll,
  type TestUser,
  uniqueName,
} from "../helpers/stack.ts";
import { clearJobQueues, startWorker, type TestWorker } from "../helpers/workers.ts";

const GRACE_SECONDS = 6;
const workers: TestWorker[] = [];

test.before(async () => {
  process.env.ARCHIVE_GRACE_SECONDS = String(GRACE_SECONDS);
  forgetArchiveSchedules();
  await clearJobQueues();
  await startUpdateProcessor();
  workers.push(startWorker({ WORKER_CONCURRENCY: "8" }));
});
test.after.always(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await stopAll();
});

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 90_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * A session of `count` fake jobs, started and run to the end; answers its id, its job ids, and
 * each job's record as first seen finished (before any archive: on a slow machine the first jobs
 * can be archived before the last one ends).
 */
async function finishedSession(
  user: TestUser,
  count: number,
): Promise<{ sid: string; ids: string[]; hot: JobRecord[] }> {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  const ids = await user.client.append(
    sid,
    Array.from({ length: count }, (_, i) => ({
      Simulation: sim,
      Input: { x: i, label: `job ${i}`, tiny: -2.75e-145 },
    })),
  );
  await user.client.start(sid);
  const hot = new Map<string, JobRecord>();
  await until(
    `the ${count} jobs of ${sid} to finish`,
    async () => {
      const jobs = await user.client.jobs(sid);
      for (const job of jobs) {
        if (job.State === "success" && !job.ResultsArchived && !hot.has(job.Id)) hot.set(job.Id, job);
      }
      return jobs.every((job) => job.State === "success") ? jobs : undefined;
    },
    90_000,
    100,
  );
  return { sid, ids, hot: ids.map((id) => hot.get(id)).filter((job): job is JobRecord => job !== undefined) };
}

const archivedAll = (client: FoqusClient, sid: string) =>
  until(`the results of ${sid} to be archived`, async () => {
    const jobs = await client.jobs(sid);
    return jobs.every((job) => job.ResultsArchived === true) ? jobs : undefined;
  });

const restoredAll = (client: FoqusClient, sid: string) =>
  until(`the results of ${sid} to be restored`, async () => {
    const jobs = await client.jobs(sid);
    return jobs.every((job) => job.ResultsArchived === undefined && job.Output !== null) ? jobs : undefined;
  });

async function upgrade(username: string): Promise<void> {
  const admin = await newUser({ admin: true });
  const answer = await admin.call("PUT", `/user/${username}/plan`, { body: { Plan: "premium" } });
  if (answer.status !== 200) throw new Error(`upgrade answered ${answer.status}: ${await answer.text()}`);
}

async function archiveObjects(username: string, sid: string) {
  const listed = await s3Client().send(
    new ListObjectsV2Command({ Bucket: config.resultsBucket, Prefix: `archives/${username}/${sid}/` }),
  );
  return listed.Contents ?? [];
}

const byId = (records: JobRecord[]) =>
  Object.fromEntries(records.map((record) => [record.Id, { Output: record.Output, State: record.State }]));

test("a free user's results are archived after the grace period, and read back identical after an upgrade", async (t) => {
  const user = await newUser({ plan: "free" });
  const { sid, ids, hot } = await finishedSession(user, 25);
  t.is(hot.length, 25, "every job was seen finished with its output, before any archive");
  t.true(hot.every((job) => job.Output !== null));

  const archived = await archivedAll(user.client, sid);
  // State, times and the marker stay readable; the outputs are gone from the hot store.
  t.true(archived.every((job) => job.State === "success" && job.Finished !== null && job.Output === null));
  for (const id of ids.slice(0, 3)) {
    const { Item } = await documentDbClient().send(
      new GetCommand({ TableName: config.jobsTable, Key: { SessionId: sid, JobId: id } }),
    );
    t.is(Item?.OutputJson, undefined, "the output left DynamoDB");
    t.regex(String(Item?.ArchiveUnit), /^U#/);
  }
  // Units, not an object per output: one per archive run (a run takes what is past its grace,
  // so jobs that finished over a span longer than the grace can take two), in archive storage.
  const objects = await archiveObjects(user.username, sid);
  t.true(objects.length >= 1 && objects.length <= 3, `${objects.length} archive objects for 25 outputs`);
  for (const object of objects) {
    const head = await s3Client().send(
      new HeadObjectCommand({ Bucket: config.resultsBucket, Key: object.Key }),
    );
    t.is(head.StorageClass, "GLACIER");
  }

  // Reading: the result page close answers 400 (the turbine client ends its loop on it), a job's
  // output 409, both with the code and how to get the results back.
  const close = await user.call("POST", `/session/${sid}/result/00000000-0000-0000-0000-000000000000`);
  t.is(close.status, 400);
  const closeBody = (await close.json()) as { error: string; message: string };
  t.is(closeBody.error, "ResultsArchived");
  t.regex(closeBody.message, /premium/);
  const job = await user.call("GET", `/job/${ids[0]}`);
  t.is(job.status, 409);
  t.is(((await job.json()) as { error: string }).error, "ResultsArchived");

  await upgrade(user.username);
  const restored = await restoredAll(user.client, sid);
  t.deepEqual(byId(restored), byId(hot), "the records read back identical");
  const pages = await readReadyPages(user.client, sid);
  t.is(pages.length, 25);
  t.deepEqual(byId(pages), byId(hot));
  // Simulator values DynamoDB's numbers cannot hold survive the round trip.
  t.true(JSON.stringify(pages[0]?.Output).includes("-2.75e-145"));
  // Restored for good: the units are marked so, and the archive object is gone.
  const units = await listUnits(user.username, { sessionId: sid });
  t.is(units.length, objects.length);
  t.true(units.every((unit) => unit.State === UnitStates.restored));
  t.is((await archiveObjects(user.username, sid)).length, 0);
  t.is((await user.call("GET", `/job/${ids[0]}`)).status, 200);
});

test("a user who upgrades inside the grace period is never archived", async (t) => {
  const user = await newUser({ plan: "free" });
  const { sid } = await finishedSession(user, 5);
  await upgrade(user.username);
  // Past the grace period, and past the archive request it scheduled.
  await sleep((GRACE_SECONDS + 4) * 1000);
  const jobs = await user.client.jobs(sid);
  t.true(jobs.every((job) => job.ResultsArchived === undefined && job.Output !== null));
  t.deepEqual(await listUnits(user.username), []);
  t.is((await readReadyPages(user.client, sid)).length, 5);
});

type Handler = (args: { input: unknown }) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
let injections = 0;

/** Adds `middleware` to the process's `service` client, before its retries (moto cannot fail so). */
function inject(service: string, middleware: Middleware): void {
  injections += 1;
  const name = `test-injection-${injections}`;
  useClientPlugin((client, clientService) => {
    if (clientService !== service) return;
    (client.middlewareStack as { add: (...args: unknown[]) => void }).add(middleware, {
      step: "initialize",
      name,
      override: true,
    });
  });
}

/** S3 answers RestoreObject for `key` with `code` the next `times` times (moto never does). */
function failRestores(key: string, code: string, times: number): void {
  let left = times;
  inject("S3", (next, context) => async (args) => {
    const input = args.input as { Key?: string };
    if (context.commandName === "RestoreObjectCommand" && input.Key === key && left > 0) {
      left -= 1;
      throw Object.assign(new Error(`${code} (injected)`), { name: code, $fault: "server" });
    }
    return next(args);
  });
}

test.serial(
  "an upgrade restores with Standard when Expedited is unavailable, and takes a restore in progress as asked",
  async (t) => {
    const { restoreArchivedObject } = await import("../../core/tiers/restore-results.ts");
    const user = await newUser({ plan: "free" });
    const { sid } = await finishedSession(user, 3);
    await archivedAll(user.client, sid);
    const [object] = await archiveObjects(user.username, sid);
    const key = object?.Key ?? "";
    failRestores(key, "GlacierExpeditedRetrievalNotAvailable", 1);
    t.is(await restoreArchivedObject(key), "Standard", "fell back to Standard");
    failRestores(key, "RestoreAlreadyInProgress", 1);
    t.is(await restoreArchivedObject(key), "Expedited", "a restore in progress counts as asked");
    // And through the whole path: the upgrade's restore goes on past an unavailable Expedited.
    failRestores(key, "GlacierExpeditedRetrievalNotAvailable", 1);
    await upgrade(user.username);
    const units = await until("the unit to be restored", async () => {
      const found = await listUnits(user.username, { sessionId: sid });
      return found.every((unit) => unit.State === UnitStates.restored) ? found : undefined;
    });
    t.is(units[0]?.RestoreTier, "Standard");
    await restoredAll(user.client, sid);
  },
);

test.serial(
  "a restore notification delivered twice, and a crash between putting outputs back and marking the unit, converge",
  async (t) => {
    const { completeRestore, restoreArchivedObject } = await import("../../core/tiers/restore-results.ts");
    const user = await newUser({ plan: "free" });
    const { sid, hot } = await finishedSession(user, 4);
    await archivedAll(user.client, sid);
    const [object] = await archiveObjects(user.username, sid);
    const key = object?.Key ?? "";
    // The restorer "crashes" after the outputs are back, before the unit is marked restored: the
    // first UpdateItem of the archives table for this unit fails.
    let crashes = 1;
    inject("DynamoDB", (next, context) => async (args) => {
      const input = args.input as { TableName?: string; ExpressionAttributeValues?: Record<string, unknown> };
      const toRestored = JSON.stringify(input.ExpressionAttributeValues?.[":to"] ?? "").includes(
        UnitStates.restored,
      );
      const marking = context.commandName === "UpdateItemCommand" && input.TableName === config.archivesTable;
      if (marking && toRestored && crashes > 0) {
        crashes -= 1;
        throw Object.assign(new Error("crash (injected)"), { name: "InjectedCrash" });
      }
      return next(args);
    });
    await restoreArchivedObject(key);
    // This read completes the restore on moto and sends the notification: the restorer in this
    // process handles it while the test delivers it again itself, and again after that.
    await completeRestore(key).catch(() => undefined);
    await until("the unit to be restored", async () => {
      const outcome = await completeRestore(key).catch(() => undefined);
      return outcome === "already-restored" || outcome === "restored" ? outcome : undefined;
    });
    t.is(await completeRestore(key), "already-restored");
    t.is(crashes, 0, "the crash happened");
    const restored = await restoredAll(user.client, sid);
    t.deepEqual(byId(restored), byId(hot));
    t.is((await archiveObjects(user.username, sid)).length, 0);
  },
);

test("a finished session is told once, to its user only, even with redelivered terminal events; more jobs tell again", async (t) => {
  const user = await newUser({ plan: "premium" });
  const other = await newUser({ plan: "premium" });
  const inbox = await subscribedQueue(user.username);
  const othersInbox = await subscribedQueue(other.username);
  const { sid, ids } = await finishedSession(user, 6);
  await finishedSession(other, 1);
  const first = await until("the notice", async () => (await receive(inbox)).at(0));
  t.regex(first.text, new RegExp(`session ${sid} has ended`));
  t.regex(first.text, /success\s+6/);
  t.is(first.username, user.username);

  // Every terminal event delivered again: the processor sees the session idle again, and tells nobody.
  await publishEvents(
    ids.map((job) =>
      newEvent({
        event: EventTypes.jobSuccess,
        username: user.username,
        session: sid,
        job,
        application: "fake",
        outputJson: "{}",
      }),
    ),
  );
  await sleep(4000);
  t.deepEqual(await receive(inbox), [], "no second notice for the same jobs");

  // More jobs, started and ended: a new notice.
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  await user.client.append(sid, [{ Simulation: sim, Input: { again: true } }]);
  await user.client.start(sid);
  const second = await until("the second notice", async () => (await receive(inbox)).at(0));
  t.regex(second.text, /success\s+7/);
  // The other user's queue got only the other user's notice.
  const others = await receive(othersInbox, 2);
  t.true(others.every((notice) => notice.username === other.username));
});

async function subscribedQueue(username: string): Promise<string> {
  const { QueueUrl } = await sqsClient().send(new CreateQueueCommand({ QueueName: uniqueName("inbox") }));
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  await snsClient().send(
    new SubscribeCommand({
      TopicArn: stack.outputs.notification_topic_arn,
      Protocol: "sqs",
      Endpoint: Attributes?.QueueArn,
      Attributes: { FilterPolicy: JSON.stringify({ username: [username] }), RawMessageDelivery: "false" },
    }),
  );
  return QueueUrl ?? "";
}

async function receive(queueUrl: string, waitSeconds = 1): Promise<{ text: string; username: string }[]> {
  const { Messages } = await sqsClient().send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
  );
  return (Messages ?? []).map((message) => {
    const envelope = JSON.parse(message.Body ?? "{}") as {
      Message: string;
      MessageAttributes?: Record<string, { Value: string }>;
    };
    return { text: envelope.Message, username: envelope.MessageAttributes?.username?.Value ?? "" };
  });
}
