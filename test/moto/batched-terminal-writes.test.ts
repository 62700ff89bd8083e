/**
 * The update processor's batched terminal writes (core/jobs/apply-event.ts applyTerminalEvents)
 * against DynamoDB on moto: the terminal events of one session in one batch take one counter
 * advance and one transaction, with every guarantee of one-at-a-time writes kept: exactly one
 * finish number per terminal job, no number skipped, the first terminal state wins, and the
 * state and output are one write. Property-based over duplicates, interleaved sessions and
 * processors running side by side.
 */
import test from "ava";
import fc from "fast-check";
import type { EventType, FoqusEvent } from "../../core/events/events.ts";
import { applyEvent, applyTerminalEvents, type BatchApplyResult } from "../../core/jobs/apply-event.ts";
import { getJob } from "../../core/jobs/job-store.ts";
import { supersededEvents } from "../../core/jobs/supersede.ts";
import { readFinishCounter, readFinishEntries } from "../../core/results/result-store.ts";
import { makeEvent } from "../helpers/factories.ts";
import { sessionWithJobs } from "../helpers/job-sessions.ts";
import { uniqueName } from "../helpers/stack.ts";

const TERMINAL: EventType[] = ["job.success", "job.error", "job.terminate"];

function ending(
  username: string,
  sid: string,
  job: string,
  event: EventType,
  extra: Partial<FoqusEvent> = {},
) {
  return makeEvent(event, {
    username,
    session: sid,
    job,
    application: "fake",
    consumer: "w1",
    ...(event === "job.success" ? { outputJson: JSON.stringify({ job }) } : { message: "ended" }),
    ...extra,
  });
}

/** One processor's batch, as the processor applies it: superseded events left out. */
function applyBatch(batch: FoqusEvent[]): Promise<BatchApplyResult[]> {
  const superseded = supersededEvents(batch);
  return applyTerminalEvents(batch.filter((_, i) => !superseded.has(i)));
}

/** Each terminal job of the session holds one number, numbers 1..n, each entry naming its job. */
async function assertNumberedOnce(
  sid: string,
  ids: string[],
  ended: Set<string>,
): Promise<string | undefined> {
  const seqs = new Map<number, string>();
  for (const id of ids) {
    const job = await getJob(sid, id);
    const terminal = ["success", "error", "terminate"].includes(job?.State ?? "");
    if (ended.has(id) !== terminal) return `job ${id} is ${job?.State}`;
    if (!terminal) continue;
    if (job?.Seq === undefined || seqs.has(job.Seq)) return `job ${id} has number ${job?.Seq}`;
    if (job.State === "success" && job.OutputJson === undefined) return `job ${id} finished without output`;
    seqs.set(job.Seq, id);
  }
  const count = await readFinishCounter(sid);
  if (count !== seqs.size) return `counter ${count} for ${seqs.size} terminal jobs`;
  const entries = await readFinishEntries(sid, 1, Math.max(1, count));
  if (entries.length !== seqs.size) return `${entries.length} finish entries for ${seqs.size} jobs`;
  for (const entry of entries)
    if (seqs.get(entry.Seq) !== entry.JobId) return `entry ${entry.Seq} names ${entry.JobId}`;
  return undefined;
}

test("batches of terminal events from two sessions, duplicated and applied side by side, number each job once", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      // (session, job, terminal event) triples; every one delivered twice, in batches of 1-10.
      fc.array(fc.tuple(fc.nat(1), fc.nat(5), fc.constantFrom(...TERMINAL)), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 3 }),
      async (script, batchSize, processors) => {
        const username = uniqueName("user");
        const sessions = [await sessionWithJobs(6, username), await sessionWithJobs(6, username)];
        const events = script.map(([s, j, type]) =>
          ending(username, sessions[s]!.sid, sessions[s]!.ids[j]!, type),
        );
        const deliveries = events.flatMap((event) => [event, event]);
        const batches: FoqusEvent[][] = [];
        for (let i = 0; i < deliveries.length; i += batchSize)
          batches.push(deliveries.slice(i, i + batchSize));
        // `processors` batches at a time, as that many processors would take them.
        for (let i = 0; i < batches.length; i += processors) {
          const results = (await Promise.all(batches.slice(i, i + processors).map(applyBatch))).flat();
          if (results.some((r) => "error" in r)) return false;
        }
        for (const [s, { sid, ids }] of sessions.entries()) {
          const ended = new Set(script.filter(([ss]) => ss === s).map(([, j]) => ids[j]!));
          const wrong = await assertNumberedOnce(sid, ids, ended);
          if (wrong) {
            t.log(wrong);
            return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 20 },
  );
  t.pass();
});

test("in one batch the first terminal state wins, and a job already ended or another owner's leaves the rest written", async (t) => {
  const username = uniqueName("user");
  const { sid, ids } = await sessionWithJobs(5, username);
  // Job 0 already ended, alone, before the batch: number 1.
  t.is(await applyEvent(ending(username, sid, ids[0]!, "job.error")), "applied");
  const batch = [
    ending(username, sid, ids[0]!, "job.success"), // late: stays error
    ending(username, sid, ids[1]!, "job.terminate"),
    ending(username, sid, ids[1]!, "job.success"), // after the terminate in the same batch: superseded
    ending("mallory", sid, ids[2]!, "job.success"), // names another owner
    ending(username, sid, ids[3]!, "job.success"),
  ];
  const results = await applyBatch(batch);
  t.deepEqual(
    results.map((r) => ("result" in r ? r.result.outcome : "error")),
    ["stale", "applied", "rejected", "applied"],
  );
  t.is((await getJob(sid, ids[0]!))?.State, "error");
  t.is((await getJob(sid, ids[1]!))?.State, "terminate");
  t.is((await getJob(sid, ids[2]!))?.State, "create", "another owner's event changed nothing");
  t.is((await getJob(sid, ids[3]!))?.OutputJson, JSON.stringify({ job: ids[3] }));
  t.is(await assertNumberedOnce(sid, ids, new Set([ids[0]!, ids[1]!, ids[3]!])), undefined);
});

test("a batch's terminal event whose item would pass 400 KB is finished alone, and the others with it", async (t) => {
  const username = uniqueName("user");
  const { sid, ids } = await sessionWithJobs(3, username);
  const outputJson = JSON.stringify({ graphError: 1, blob: "o".repeat(200 * 1024 - 32) });
  const message = `model failed: ${"m".repeat(250_000)}`;
  const results = await applyBatch([
    ending(username, sid, ids[0]!, "job.success"),
    ending(username, sid, ids[1]!, "job.error", { outputJson, message, errorClass: "model" }),
    ending(username, sid, ids[2]!, "job.success"),
  ]);
  t.true(results.every((r) => "result" in r && r.result.outcome === "applied"));
  const big = await getJob(sid, ids[1]!);
  t.is(big?.State, "error");
  t.is(big?.OutputJson, undefined, "the output moved to S3");
  t.true((big?.Message?.length ?? 0) <= 8100, "the message was cut");
  t.is(await assertNumberedOnce(sid, ids, new Set(ids)), undefined);
});
