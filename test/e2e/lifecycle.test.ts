/**
 * Whole job lifecycles on the local stack: the API, the update processor (local SQS triggers)
 * and real worker processes. These files run one at a time (workers share the pool's queue).
 */

import { setTimeout as sleep } from "node:timers/promises";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import test from "ava";
import type { JobRecord as Job, JobRequest } from "../../client/api-client.ts";
import { readReadyPages } from "../../client/result-pages.ts";
import { sqsClient } from "../../core/aws/sqs-client.ts";
import { newEvent } from "../../core/events/event-publisher.ts";
import { EventTypes } from "../../core/events/events.ts";
import {
  newUser,
  stack,
  startUpdateProcessor,
  stopAll,
  type TestUser,
  uniqueName,
} from "../helpers/stack.ts";
import { clearJobQueues, pollsOver, startWorker, type TestWorker } from "../helpers/workers.ts";

const workers: TestWorker[] = [];
const worker = (settings: Record<string, string> = {}) => {
  const started = startWorker(settings);
  workers.push(started);
  return started;
};

test.before(async () => {
  await clearJobQueues();
  await startUpdateProcessor();
});
test.afterEach.always(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop("SIGKILL")));
  // A killed worker's pending receive lives on inside moto and would take the next test's jobs.
  await pollsOver();
});
test.after.always(stopAll);

async function session(user: TestUser, application = "fake") {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, application);
  return { sim, sid: await user.client.createSession() };
}

const append = (user: TestUser, sid: string, jobs: JobRequest[]) => user.client.append(sid, jobs);
const jobs = (user: TestUser, sid: string) => user.client.jobs(sid);
const readAllPages = (user: TestUser, sid: string) => readReadyPages(user.client, sid);

/** Polls until every job satisfies `done` (bounded, so a broken system fails instead of hanging). */
async function until(user: TestUser, sid: string, done: (job: Job) => boolean, what: string): Promise<Job[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const current = await jobs(user, sid);
    if (current.length > 0 && current.every(done)) return current;
    if (Date.now() > deadline)
      throw new Error(`jobs never became ${what}: ${JSON.stringify(current.map((j) => j.State))}`);
    await sleep(250);
  }
}

const terminal = (job: Job) => ["success", "error", "terminate"].includes(job.State);

test.serial("jobs run through a worker to success, each paged exactly once, in finish order", async (t) => {
  worker();
  const user = await newUser();
  const { sim, sid } = await session(user);
  const ids = await append(
    user,
    sid,
    Array.from({ length: 12 }, (_, i) => ({ Simulation: sim, Input: { i, fail: i === 5 } })),
  );
  await user.client.start(sid);
  const finished = await until(user, sid, terminal, "terminal");
  t.is(finished.filter((job) => job.State === "success").length, 11);
  const failed = finished.find((job) => job.State === "error");
  t.is(failed?.Message, "The fake engine failed this job on purpose.");
  t.is(failed?.ErrorClass, "model");
  const records = await readAllPages(user, sid);
  t.deepEqual([...records.map((r) => r.Id)].sort(), [...ids].sort());
  const success = records.find((r) => r.State === "success")!;
  t.is(success.Output?.graphError, 0);
  t.truthy((success as unknown as { Input: unknown }).Input);
});

test.serial("the sample CSTR model computes real outputs through the command engine", async (t) => {
  worker();
  const user = await newUser();
  const { sim, sid } = await session(user, "cstr");
  await append(user, sid, [
    { Simulation: sim, Input: { T: 350 } },
    { Simulation: sim, Input: { T: 400 } },
    { Simulation: sim, Input: { T: "hot" } },
  ]);
  await user.client.start(sid);
  const [cool, hot, bad] = await until(user, sid, terminal, "terminal");
  const conversion = (job: Job | undefined) =>
    (job?.Output?.output as { X: number } | undefined)?.X ?? Number.NaN;
  t.is(cool?.State, "success");
  t.true(conversion(cool) > 0.49 && conversion(cool) < 0.51, `X at 350 K is ${conversion(cool)}`);
  t.true(conversion(hot) > conversion(cool), "hotter reactor converts more");
  t.is(bad?.State, "error");
  t.regex(bad?.Message ?? "", /Input T must be a number/);
});

test.serial("kill stops a running engine within a heartbeat and ends the job terminate", async (t) => {
  const w = worker({ WORKER_CONCURRENCY: "1" });
  const user = await newUser();
  const { sim, sid } = await session(user);
  const [id] = await append(user, sid, [{ Simulation: sim, Input: { delayMs: 600_000 } }]);
  await user.client.start(sid);
  await until(user, sid, (job) => job.State === "running", "running");
  await user.client.kill(sid);
  // The 10-minute engine run is aborted: the worker logs the kill long before it could finish.
  const killed = await w.waitFor((line) => line.message === "job killed" && line.job === id, 30_000);
  t.is(killed.job, id);
  const [job] = await until(user, sid, terminal, "terminal");
  t.is(job?.State, "terminate");
  t.deepEqual(
    (await readAllPages(user, sid)).map((r) => r.State),
    ["terminate"],
  );
});

test.serial(
  "a worker killed with SIGKILL mid-job loses nothing: the job runs again and finishes once",
  async (t) => {
    const first = worker({ WORKER_CONCURRENCY: "1", LEASE_SECONDS: "3", WORKER_ID: "sigkill-first" });
    const user = await newUser();
    const { sim, sid } = await session(user);
    // 8 s against a lease of 3 s: the run after the kill finishes only if its lease is extended.
    const [id] = await append(user, sid, [{ Simulation: sim, Input: { delayMs: 8000 } }]);
    await user.client.start(sid);
    // Killed on its own word that the engine runs: mid-job, whatever the API shows yet.
    const running = await first.waitFor((line) => line.message === "job running" && line.job === id, 30_000);
    t.is(running.attempt, 1);
    await first.stop("SIGKILL");
    // A receive the killed worker left pending inside moto would take the redelivery and spend
    // it; wait such polls out, so that every delivery counted below is a real one.
    await pollsOver();
    // Two slots: the second worker keeps polling while it runs the job, so a lease it failed to
    // extend would come back to it as another delivery (and show in its log).
    const second = worker({ WORKER_CONCURRENCY: "2", LEASE_SECONDS: "3", WORKER_ID: "sigkill-second" });
    const done = await second.waitFor((line) => line.message === "job succeeded" && line.job === id, 90_000);
    // One delivery died with the first worker, the next one finished: none lost, none wasted.
    t.is(done.attempt, 2);
    const about = (line: Record<string, unknown>) => line.job === id;
    t.deepEqual(
      second.lines.filter(about).map((line) => line.message),
      ["job running", "job succeeded"],
      "the second worker ran the job once, never handed it back, never saw it again",
    );
    t.false(second.lines.some((line) => line.message === "heartbeat failed"));
    const records = await readAllPages(user, sid);
    t.deepEqual(
      records.map((r) => [r.Id, r.State, r.ConsumerId]),
      [[id, "success", "sigkill-second"]],
    );
  },
);

test.serial(
  "a duplicate delivery of a running job is not run while its attempt is live, and is deleted once it finishes",
  async (t) => {
    const holder = worker({ WORKER_CONCURRENCY: "1", LEASE_SECONDS: "3", WORKER_ID: "live-holder" });
    const user = await newUser();
    const { sim, sid } = await session(user);
    const [id] = await append(user, sid, [{ Simulation: sim, Input: { delayMs: 10_000 } }]);
    await user.client.start(sid);
    await holder.waitFor((line) => line.message === "job running" && line.job === id, 30_000);
    await until(user, sid, (job) => job.State === "running" && job.ConsumerId === "live-holder", "running");
    // A second job.submit of the same job, as a redelivery or a repeated submit gives.
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: stack.outputs.job_queue_urls.linux!,
        MessageBody: JSON.stringify(
          newEvent({
            event: EventTypes.jobSubmit,
            username: user.username,
            session: sid,
            job: id,
            application: "fake",
            simulation: sim,
          }),
        ),
      }),
    );
    const other = worker({ WORKER_CONCURRENCY: "1", LEASE_SECONDS: "3", WORKER_ID: "live-other" });
    const deferred = await other.waitFor(
      (line) => line.message === "job not run: another attempt holds it" && line.job === id,
      30_000,
    );
    t.is(deferred.reason, "live-attempt");
    t.is(deferred.holder, "live-holder");
    t.is(deferred.spendsDelivery, false);
    await holder.waitFor((line) => line.message === "job succeeded" && line.job === id, 60_000);
    // The duplicate comes back, finds the job finished and is deleted, never run. Both workers
    // poll the queue: whichever receives the copy skips it (the holder is free again by then).
    const isSkip = (line: Record<string, unknown>) =>
      line.message === "skipping a job that is not runnable" && line.job === id;
    const skipped = await Promise.any([holder.waitFor(isSkip, 60_000), other.waitFor(isSkip, 60_000)]);
    t.is(skipped.state, "success");
    t.false(other.lines.some((line) => line.message === "job running" && line.job === id));
    t.is(holder.lines.filter((line) => line.message === "job running" && line.job === id).length, 1);
    t.deepEqual(
      (await readAllPages(user, sid)).map((r) => [r.Id, r.State, r.ConsumerId]),
      [[id, "success", "live-holder"]],
    );
  },
);

test.serial("SIGTERM releases the jobs in hand to another worker, which finishes them", async (t) => {
  const first = worker({ WORKER_CONCURRENCY: "2", SHUTDOWN_GRACE_SECONDS: "1", LEASE_SECONDS: "60" });
  const user = await newUser();
  const { sim, sid } = await session(user);
  const ids = await append(user, sid, [
    { Simulation: sim, Input: { delayMs: 4000 } },
    { Simulation: sim, Input: { delayMs: 4000 } },
  ]);
  await user.client.start(sid);
  await Promise.all(
    ids.map((id) => first.waitFor((line) => line.message === "job running" && line.job === id, 30_000)),
  );
  t.is(await first.stop("SIGTERM"), 0);
  // Each job in hand either finished within the 1 s grace or was released, never dropped; the
  // one that started last had more than the grace left, so at least one was released.
  const outcome = (message: string) =>
    first.lines.filter((line) => line.message === message).map((line) => line.job as string);
  const released = outcome("job released");
  t.deepEqual([...released, ...outcome("job succeeded")].sort(), [...ids].sort());
  t.true(released.length >= 1);
  // Released with visibility 0 (not after the 60 s lease): a new worker takes them at once.
  const second = worker({ WORKER_CONCURRENCY: "2" });
  await Promise.all(
    released.map((id) =>
      second.waitFor((line) => line.message === "job succeeded" && line.job === id, 30_000),
    ),
  );
  t.deepEqual((await readAllPages(user, sid)).map((r) => r.State).sort(), ["success", "success"]);
});

test.serial("an output over 256 KB goes through S3 and comes back intact in its result page", async (t) => {
  worker();
  const user = await newUser();
  const { sim, sid } = await session(user);
  const big = "x".repeat(270_000);
  await append(user, sid, [{ Simulation: sim, Input: { big, tiny: -2.75e-145 } }]);
  await user.client.start(sid);
  await until(user, sid, terminal, "terminal");
  const [record] = await readAllPages(user, sid);
  t.is(record?.State, "success");
  const output = record?.Output as { output: { big: string; tiny: number } };
  t.is(output.output.big.length, 270_000);
  t.is(output.output.big, big);
  t.is(output.output.tiny, -2.75e-145);
});

test.serial("stop pauses jobs not yet set up, and start resumes them", async (t) => {
  const user = await newUser();
  const { sim, sid } = await session(user);
  await append(user, sid, [{ Simulation: sim }, { Simulation: sim }]);
  await user.client.start(sid);
  await user.client.stop(sid);
  t.deepEqual(
    (await jobs(user, sid)).map((job) => job.State),
    ["pause", "pause"],
  );
  // A worker that receives a paused job skips it instead of running it.
  const w = worker();
  await w.waitFor(
    (line) => line.message === "skipping a job that is not runnable" && line.state === "pause",
    30_000,
  );
  t.deepEqual(
    (await jobs(user, sid)).map((job) => job.State),
    ["pause", "pause"],
  );
  await user.client.start(sid);
  const finished = await until(user, sid, terminal, "terminal");
  t.deepEqual(
    finished.map((job) => job.State),
    ["success", "success"],
  );
});

test.serial("a job whose deliveries all fail reaches the DLQ and ends error (worker-lost)", async (t) => {
  const user = await newUser();
  const { sim, sid } = await session(user);
  const [id] = await append(user, sid, [{ Simulation: sim }]);
  await user.client.start(sid);
  // Play three workers that each took the job and died: receive it, never delete it.
  const queueUrl = stack.outputs.job_queue_urls.linux!;
  let receives = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { Messages } = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 1,
        WaitTimeSeconds: 1,
      }),
    );
    receives += (Messages ?? []).filter((m) => m.Body?.includes(id!)).length;
    const [job] = await jobs(user, sid);
    if (job && terminal(job)) break;
  }
  t.true(receives >= 1, `received ${receives} times`);
  const [job] = await until(user, sid, terminal, "terminal");
  t.is(job?.State, "error");
  t.is(job?.ErrorClass, "worker-lost");
  t.regex(job?.Message ?? "", /dead-letter queue/);
});

test.serial("a poison event ends in the update DLQ instead of being retried forever", async (t) => {
  const dlq = stack.outputs.update_dead_letter_queue_url;
  const count = async () =>
    Number(
      (
        await sqsClient().send(
          new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["ApproximateNumberOfMessages"] }),
        )
      ).Attributes?.ApproximateNumberOfMessages ?? 0,
    );
  const before = await count();
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: stack.outputs.update_queue_url, MessageBody: "{not an event" }),
  );
  const deadline = Date.now() + 90_000;
  while ((await count()) === before && Date.now() < deadline) await sleep(500);
  t.is(await count(), before + 1);
});
