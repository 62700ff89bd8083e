/**
 * The update processor's writes (core/jobs/apply-event.ts) against DynamoDB on moto: every
 * transition, duplicates, late and reordered events (property-based), and exact numbering of
 * terminal jobs for result pages.
 */
import test from "ava";
import fc from "fast-check";
import type { EventType, FoqusEvent } from "../../core/events/events.ts";
import { applyEvent } from "../../core/jobs/apply-event.ts";
import { getJob } from "../../core/jobs/job-store.ts";
import { closeResultPage, markPageRead, readResultPage } from "../../core/results/result-store.ts";
import { makeEvent } from "../helpers/factories.ts";
import { sessionWithJobs } from "../helpers/job-sessions.ts";

function jobEvent(
  username: string,
  sid: string,
  job: string,
  event: EventType,
  extra: Partial<FoqusEvent> = {},
) {
  return makeEvent(event, { username, session: sid, job, application: "fake", consumer: "w1", ...extra });
}

test("a job moves through setup and running to success with its output in one write", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  t.is(await applyEvent(jobEvent(username, sid, job, "job.setup")), "applied");
  t.is((await getJob(sid, job))?.State, "setup");
  t.is(await applyEvent(jobEvent(username, sid, job, "job.running")), "applied");
  t.is(
    await applyEvent(
      jobEvent(username, sid, job, "job.success", { outputJson: '{"graphError":0,"v":-2.75e-145}' }),
    ),
    "applied",
  );
  const stored = await getJob(sid, job);
  t.is(stored?.State, "success");
  t.is(stored?.OutputJson, '{"graphError":0,"v":-2.75e-145}');
  t.is(stored?.Seq, 1);
  t.truthy(stored?.Setup && stored.Running && stored.Finished);
  t.is(stored?.ConsumerId, "w1");
});

test("a success applied alone still records the setup and running times it carries", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  const setupTime = "2026-01-01T00:00:01.000Z";
  const runningTime = "2026-01-01T00:00:02.000Z";
  await applyEvent(jobEvent(username, sid, job, "job.success", { outputJson: "{}", setupTime, runningTime }));
  const stored = await getJob(sid, job);
  t.is(stored?.State, "success");
  t.is(stored?.Setup, setupTime);
  t.is(stored?.Running, runningTime);
  // The late setup event keeps its own time out: the first record of each stamp stays.
  t.is(await applyEvent(jobEvent(username, sid, job, "job.setup")), "stale");
  t.is((await getJob(sid, job))?.Setup, setupTime);
});

test("a late running event after success and a duplicate success change nothing", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  const success = jobEvent(username, sid, job, "job.success", { outputJson: "{}" });
  await applyEvent(success);
  t.is(await applyEvent(jobEvent(username, sid, job, "job.running")), "stale");
  t.is(await applyEvent(success), "stale");
  t.is(await applyEvent(jobEvent(username, sid, job, "job.error", { message: "late" })), "stale");
  const stored = await getJob(sid, job);
  t.is(stored?.State, "success");
  t.is(stored?.Seq, 1);
  t.is(stored?.Message, undefined);
});

test("kill during running ends the job terminate; the worker's later success is ignored", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  await applyEvent(jobEvent(username, sid, job, "job.running"));
  t.is(
    await applyEvent(jobEvent(username, sid, job, "job.terminate", { message: "Session killed" })),
    "applied",
  );
  t.is(await applyEvent(jobEvent(username, sid, job, "job.success", { outputJson: "{}" })), "stale");
  const stored = await getJob(sid, job);
  t.is(stored?.State, "terminate");
  t.is(stored?.OutputJson, undefined);
});

test("an error keeps its message and error class", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  await applyEvent(
    jobEvent(username, sid, ids[0]!, "job.error", { message: "license server down", errorClass: "license" }),
  );
  const stored = await getJob(sid, ids[0]!);
  t.is(stored?.State, "error");
  t.is(stored?.Message, "license server down");
  t.is(stored?.ErrorClass, "license");
});

test("events for a deleted or unknown job change nothing", async (t) => {
  const { username, sid } = await sessionWithJobs(0);
  t.is(await applyEvent(jobEvent(username, sid, "no-such-job", "job.running")), "stale");
  t.is(
    await applyEvent(jobEvent(username, sid, "no-such-job", "job.success", { outputJson: "{}" })),
    "stale",
  );
  t.is(await closeResultPage(sid, "g"), 0);
});

const at = (ms: number) => new Date(ms).toISOString();

test("setup and running record the attempt's lease; its heartbeats move it later and never the state", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  const t0 = Date.parse("2026-01-01T00:00:00.000Z");
  const event = (type: EventType, consumer: string, time: number, leaseUntil: number) =>
    jobEvent(username, sid, job, type, { consumer, time: at(time), leaseUntil: at(leaseUntil) });
  t.is(await applyEvent(event("job.setup", "w1", t0, t0 + 30_000)), "applied");
  t.is((await getJob(sid, job))?.LeaseUntil, at(t0 + 30_000));
  t.is(await applyEvent(event("job.running", "w1", t0 + 1000, t0 + 31_000)), "applied");
  t.is(await applyEvent(event("job.heartbeat", "w1", t0 + 15_000, t0 + 45_000)), "applied");
  let stored = await getJob(sid, job);
  t.is(stored?.State, "running");
  t.is(stored?.ConsumerId, "w1");
  t.is(stored?.LeaseUntil, at(t0 + 45_000));
  t.is(stored?.Running, at(t0 + 1000), "a heartbeat stamps nothing");
  // A duplicate or late heartbeat never moves the lease back.
  t.is(await applyEvent(event("job.heartbeat", "w1", t0 + 15_000, t0 + 45_000)), "stale");
  t.is(await applyEvent(event("job.heartbeat", "w1", t0 + 5000, t0 + 35_000)), "stale");
  // Another worker's attempt (a duplicate delivery) while w1's lease is live changes nothing.
  t.is(await applyEvent(event("job.setup", "w2", t0 + 20_000, t0 + 50_000)), "stale");
  t.is(await applyEvent(event("job.running", "w2", t0 + 20_000, t0 + 50_000)), "stale");
  t.is(await applyEvent(event("job.heartbeat", "w2", t0 + 20_000, t0 + 50_000)), "stale");
  stored = await getJob(sid, job);
  t.is(stored?.ConsumerId, "w1");
  t.is(stored?.LeaseUntil, at(t0 + 45_000));
  // A heartbeat carries no state: it never finishes a job, nor takes a finish number.
  t.is(stored?.Seq, undefined);
  t.is(await closeResultPage(sid, "g"), 0);
});

test("after an attempt's lease ended, the next attempt's setup takes the job over; the dead one's late events do not", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  const t0 = Date.parse("2026-01-01T00:00:00.000Z");
  const event = (type: EventType, consumer: string, time: number, leaseUntil: number) =>
    jobEvent(username, sid, job, type, { consumer, time: at(time), leaseUntil: at(leaseUntil) });
  await applyEvent(event("job.setup", "w1", t0, t0 + 30_000));
  await applyEvent(event("job.running", "w1", t0 + 1000, t0 + 30_000));
  // w1 died; SQS delivered the job again after its lease, to w2.
  t.is(await applyEvent(event("job.setup", "w2", t0 + 31_000, t0 + 61_000)), "applied");
  let stored = await getJob(sid, job);
  t.is(stored?.State, "running", "the state never moves back");
  t.is(stored?.ConsumerId, "w2");
  t.is(stored?.LeaseUntil, at(t0 + 61_000));
  t.is(stored?.Setup, at(t0), "the first attempt's timestamps stay");
  // w1's heartbeat, sent before it died and arriving late, does not take the job back.
  t.is(await applyEvent(event("job.heartbeat", "w1", t0 + 16_000, t0 + 46_000)), "stale");
  t.is(await applyEvent(event("job.heartbeat", "w2", t0 + 46_000, t0 + 76_000)), "applied");
  stored = await getJob(sid, job);
  t.is(stored?.ConsumerId, "w2");
  t.is(stored?.LeaseUntil, at(t0 + 76_000));
  // Finished: no lease event touches it again, and the first terminal state stays.
  t.is(
    await applyEvent(jobEvent(username, sid, job, "job.success", { consumer: "w2", outputJson: "{}" })),
    "applied",
  );
  t.is(await applyEvent(event("job.heartbeat", "w2", t0 + 60_000, t0 + 90_000)), "stale");
  t.is(await applyEvent(event("job.setup", "w3", t0 + 200_000, t0 + 230_000)), "stale");
  stored = await getJob(sid, job);
  t.is(stored?.State, "success");
  t.is(stored?.ConsumerId, "w2");
  t.is(stored?.Seq, 1);
});

test("an attempt that hands its job back ends its lease; its late heartbeats do not revive it", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  const t0 = Date.parse("2026-01-01T00:00:00.000Z");
  const event = (type: EventType, consumer: string, time: number, leaseUntil: number) =>
    jobEvent(username, sid, job, type, { consumer, time: at(time), leaseUntil: at(leaseUntil) });
  await applyEvent(event("job.running", "w1", t0, t0 + 30_000));
  // w1 shuts down at t0 + 20 s: its last heartbeat says the lease ends then.
  t.is(await applyEvent(event("job.heartbeat", "w1", t0 + 20_000, t0 + 20_000)), "applied");
  t.is((await getJob(sid, job))?.LeaseUntil, at(t0 + 20_000));
  // A heartbeat it sent before, arriving late, changes nothing: the newer word wins.
  t.is(await applyEvent(event("job.heartbeat", "w1", t0 + 15_000, t0 + 45_000)), "stale");
  // The next worker takes the job at once.
  t.is(await applyEvent(event("job.setup", "w2", t0 + 21_000, t0 + 51_000)), "applied");
  const stored = await getJob(sid, job);
  t.is(stored?.ConsumerId, "w2");
  t.is(stored?.LeaseUntil, at(t0 + 51_000));
  t.is(stored?.State, "running");
});

test("a heartbeat about another owner's job, or without a lease, changes nothing", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  const now = Date.now();
  await applyEvent(jobEvent(username, sid, job, "job.running", { leaseUntil: at(now + 30_000) }));
  t.is(
    await applyEvent(
      jobEvent("mallory", sid, job, "job.heartbeat", { time: at(now), leaseUntil: at(now + 60_000) }),
    ),
    "rejected",
  );
  t.is(await applyEvent(jobEvent(username, sid, job, "job.heartbeat")), "stale");
  // A lease past SQS's longest visibility (12 h) is no lease a worker can hold.
  t.is(
    await applyEvent(
      jobEvent(username, sid, job, "job.heartbeat", { time: at(now), leaseUntil: at(now + 13 * 3600_000) }),
    ),
    "stale",
  );
  t.is((await getJob(sid, job))?.LeaseUntil, at(now + 30_000));
});

const WORKER_EVENTS: EventType[] = [
  "job.setup",
  "job.running",
  "job.heartbeat",
  "job.success",
  "job.error",
  "job.terminate",
];

test("any order of duplicated events leaves each job in its first terminal state, numbered exactly once", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(4), fc.constantFrom(...WORKER_EVENTS)), { minLength: 1, maxLength: 25 }),
      fc.integer({ min: 1, max: 3 }),
      async (script, concurrency) => {
        const { username, sid, ids } = await sessionWithJobs(5);
        const events = script.map(([index, type]) =>
          jobEvent(
            username,
            sid,
            ids[index]!,
            type,
            type === "job.success"
              ? { outputJson: `{"job":${index}}` }
              : { leaseUntil: new Date(Date.now() + 30_000).toISOString() },
          ),
        );
        // The expected result: per job, the first terminal event in delivery order wins.
        const firstTerminal = new Map<string, EventType>();
        for (const event of events) {
          if (
            ["job.success", "job.error", "job.terminate"].includes(event.event) &&
            !firstTerminal.has(event.job!)
          ) {
            firstTerminal.set(event.job!, event.event);
          }
        }
        // Deliver in order, each event twice (at-least-once), a few at a time.
        const deliveries = events.flatMap((event) => [event, event]);
        if (concurrency === 1) {
          for (const event of deliveries) await applyEvent(event);
        } else {
          for (let i = 0; i < deliveries.length; i += concurrency) {
            await Promise.all(deliveries.slice(i, i + concurrency).map((event) => applyEvent(event)));
          }
        }
        const seqs: number[] = [];
        for (const id of ids) {
          const job = await getJob(sid, id);
          const terminal = firstTerminal.get(id);
          if (!terminal) {
            if (job?.Seq !== undefined) return false;
            continue;
          }
          // With concurrent delivery two terminal events may race; either may win, never both.
          if (concurrency === 1 && job?.State !== terminal.replace("job.", "")) return false;
          if (!["success", "error", "terminate"].includes(job?.State ?? "")) return false;
          if (job?.State === "success" && job.OutputJson === undefined) return false;
          seqs.push(job!.Seq!);
        }
        seqs.sort((a, b) => a - b);
        return seqs.every((seq, i) => seq === i + 1);
      },
    ),
    { numRuns: 25 },
  );
  t.pass();
});

test("result pages hold every terminal job exactly once, in finish order", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(7);
  const gen = "00000000-0000-0000-0000-000000000000";
  for (const id of ids.slice(0, 3))
    await applyEvent(jobEvent(username, sid, id, "job.success", { outputJson: "{}" }));
  t.is(await closeResultPage(sid, gen), 1);
  // Page 1 is not read yet: closing again answers it again instead of skipping it.
  for (const id of ids.slice(3, 5))
    await applyEvent(jobEvent(username, sid, id, "job.error", { message: "x" }));
  t.is(await closeResultPage(sid, gen), 1);
  const readPage = async (page: number) => {
    const jobs = await readResultPage(sid, gen, page);
    await markPageRead(sid, gen, page);
    return jobs.map((job) => job.JobId);
  };
  t.deepEqual(await readPage(1), ids.slice(0, 3));
  t.is(await closeResultPage(sid, gen), 2);
  t.deepEqual(await readPage(2), ids.slice(3, 5));
  // Nothing new: the newest page number again.
  t.is(await closeResultPage(sid, gen), 2);
  // A second generator pages the same jobs independently.
  t.is(await closeResultPage(sid, "other"), 1);
  t.is((await readResultPage(sid, "other", 1)).length, 5);
});

test("two concurrent page closes never produce overlapping or missing pages", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(12);
  const gen = "g";
  const seen: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const id of ids.slice(round * 3, round * 3 + 3)) {
      await applyEvent(jobEvent(username, sid, id, "job.success", { outputJson: "{}" }));
    }
    const [a, b] = await Promise.all([closeResultPage(sid, gen), closeResultPage(sid, gen)]);
    t.is(a, round + 1);
    t.is(b, round + 1);
    const page = await readResultPage(sid, gen, round + 1);
    await markPageRead(sid, gen, round + 1);
    seen.push(...page.map((job) => job.JobId));
  }
  t.deepEqual(seen, ids);
});

test("an event naming another owner, or an output outside the job's prefix, is rejected and changes nothing", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(2);
  const [job, other] = ids as [string, string];
  // Code on a worker forges events about alice's job as mallory, or points it at mallory's data.
  t.is(await applyEvent(jobEvent("mallory", sid, job, "job.running")), "rejected");
  t.is(await applyEvent(jobEvent("mallory", sid, job, "job.success", { outputJson: "{}" })), "rejected");
  t.is(
    await applyEvent(
      jobEvent(username, sid, job, "job.success", { outputKey: `outputs/mallory/${sid}/${job}/a.json` }),
    ),
    "rejected",
  );
  t.is(
    await applyEvent(
      jobEvent(username, sid, job, "job.success", {
        outputKey: `outputs/${username}/${sid}/${other}/a.json`,
      }),
    ),
    "rejected",
  );
  const untouched = await getJob(sid, job);
  t.is(untouched?.State, "create");
  t.is(untouched?.Seq, undefined);
  // The job's own per-attempt key is accepted.
  const own = `outputs/${username}/${sid}/${job}/attempt-1.json`;
  t.is(await applyEvent(jobEvent(username, sid, job, "job.success", { outputKey: own })), "applied");
  t.is((await getJob(sid, job))?.OutputKey, own);
});

test("a terminal event whose item would pass 400 KB is finished, not retried as contention", async (t) => {
  const { username, sid, ids } = await sessionWithJobs(1);
  const job = ids[0]!;
  // An inline output at the limit and a long message: together over DynamoDB's item limit.
  const outputJson = JSON.stringify({ graphError: 1, blob: "o".repeat(200 * 1024 - 32) });
  const message = `model failed: ${"m".repeat(250_000)}`;
  t.is(
    await applyEvent(jobEvent(username, sid, job, "job.error", { outputJson, message, errorClass: "model" })),
    "applied",
  );
  const stored = await getJob(sid, job);
  t.is(stored?.State, "error");
  t.is(stored?.Seq, 1);
  t.is(stored?.OutputJson, undefined, "the output moved to S3");
  t.regex(stored?.OutputKey ?? "", new RegExp(`^outputs/${username}/${sid}/${job}`));
  t.true((stored?.Message?.length ?? 0) <= 8100, "the message was cut");
  t.true(stored?.Message?.startsWith("model failed: "));
});
