/**
 * @module tiers/archive-session
 * The archiver's work for one due request: a free user's session's results that are past their
 * grace period leave the hot store for archive storage, in units (tiers/archive-unit.ts).
 *
 * Order, so that a crash anywhere loses nothing and a rerun finishes the job: the unit's object
 * is written (in the archive storage class) before the unit item, the unit item before any job
 * loses its output, and a job's large output object is deleted only after the job item points
 * at the unit. A rerun finds the unit item (archive-store.ts putUnit) and strips what is left.
 *
 * Re-checked when the request arrives, not when it was sent: the request must still be the
 * session's pending one (archive-store.ts), and the user must still be on the free plan. An
 * upgrade in the grace period therefore archives nothing.
 */

import { s3Module } from "../aws/client-modules.ts";
import { mapLimit } from "../concurrency.ts";
import { config } from "../config.ts";
import type { JobItem } from "../jobs/job.ts";
import { archiveJobOutput, getJobs } from "../jobs/job-store.ts";
import { isTerminal } from "../jobs/states.ts";
import { getOutputJson } from "../results/output-store.ts";
import { addArchivedRange, readFinishCounter, readFinishEntries } from "../results/result-store.ts";
import { findSession } from "../sessions/session-store.ts";
import { getUser } from "../users/user-store.ts";
import {
  type ArchiveUnit,
  clearPending,
  getPending,
  movePending,
  putUnit,
  UnitStates,
  unitIdOf,
  unitKey,
} from "./archive-store.ts";
import { type ArchivedOutput, encodeUnit, unitObjectKey } from "./archive-unit.ts";
import { type ArchiveRequest, delayedRequests } from "./delayed-requests.ts";

/** Most jobs in one unit, and most bytes of output before compression. */
export const MAX_UNIT_JOBS = 1000;
export const MAX_UNIT_BYTES = 64 * 1024 * 1024;
const WRITE_CONCURRENCY = 8;

export interface ArchiveReport {
  outcome: "archived" | "early" | "superseded" | "not-free" | "gone";
  /** Units written by this run, and the jobs whose outputs they took. */
  units: number;
  jobs: number;
  /** When the session's next request is due (some results were still within their grace). */
  nextAt?: number;
}

export async function archiveSession(request: ArchiveRequest, now = Date.now()): Promise<ArchiveReport> {
  const { username, sessionId, at, graceSeconds } = request;
  if (now < at) {
    // Early (EventBridge Scheduler fires within its minute): a job ending between now and `at`
    // would count on this request and not be seen. Come back when it is due.
    await delayedRequests.sendAt(request, now);
    return { outcome: "early", units: 0, jobs: 0 };
  }
  const pending = await getPending(username, sessionId);
  if (!pending || pending.Until !== at) return { outcome: "superseded", units: 0, jobs: 0 };
  const user = await getUser(username);
  // A session being deleted is as good as gone: archiving it would write what the delete removes.
  const session = user?.Plan === "free" ? await findSession(username, sessionId) : undefined;
  if (user?.Plan !== "free" || !session || session.State === "deleting") {
    await clearPending(username, sessionId, at);
    return { outcome: user?.Plan === "free" ? "gone" : "not-free", units: 0, jobs: 0 };
  }
  const cutoff = now - graceSeconds * 1000;
  const counter = await readFinishCounter(sessionId);
  let from = pending.From;
  let units = 0;
  let jobs = 0;
  let stillHot: JobItem | undefined;
  while (from <= counter) {
    const windowLast = Math.min(counter, from + MAX_UNIT_JOBS - 1);
    const window = await finishedJobs(sessionId, from, windowLast);
    const due: JobItem[] = [];
    let bytes = 0;
    let full: JobItem | undefined;
    for (const job of window) {
      if (Date.parse(job.Finished ?? "") > cutoff) {
        stillHot = job;
        break;
      }
      if (bytes > MAX_UNIT_BYTES) {
        full = job;
        break;
      }
      bytes += job.OutputJson?.length ?? 0;
      due.push(job);
    }
    const toArchive = due.filter((job) => !job.ArchiveUnit);
    let next = (full ?? stillHot)?.Seq ?? windowLast + 1;
    if (toArchive.length > 0) {
      const done = await archiveUnit(username, sessionId, toArchive, now);
      units += 1;
      jobs += done.jobs;
      // A crashed run's unit may have ended earlier: go on right after it.
      next = Math.min(next, done.last + 1);
    }
    from = next;
    if (stillHot && from >= (stillHot.Seq ?? 0)) break;
  }
  if (from > counter) {
    await clearPending(username, sessionId, at);
    return { outcome: "archived", units, jobs };
  }
  // Some results are within their grace: the next request is due when the oldest of them is not.
  const nextAt = Date.parse(stillHot?.Finished ?? "") + graceSeconds * 1000 + 1000;
  const next = Number.isFinite(nextAt) ? nextAt : now + graceSeconds * 1000;
  // Sent before the pending request moves: a crash in between leaves a request that finds itself
  // superseded, never a pending request that nothing will deliver.
  await delayedRequests.sendAt({ ...request, at: next }, now);
  await movePending(username, sessionId, at, next, from);
  return { outcome: "archived", units, jobs, nextAt: next };
}

/** The terminal jobs numbered first..last, in finish order (missing ones, deleted, left out). */
async function finishedJobs(sessionId: string, first: number, last: number): Promise<JobItem[]> {
  const entries = await readFinishEntries(sessionId, first, last);
  const items = await getJobs(
    sessionId,
    entries.map((entry) => entry.JobId),
  );
  return items
    .filter((job) => isTerminal(job.State) && job.Seq !== undefined)
    .sort((a, b) => (a.Seq ?? 0) - (b.Seq ?? 0));
}

/** Writes one unit of `jobs` (in finish order) and strips their outputs; answers how many, and its end. */
async function archiveUnit(
  username: string,
  sessionId: string,
  jobs: JobItem[],
  now: number,
): Promise<{ jobs: number; last: number }> {
  const first = jobs[0]?.Seq ?? 0;
  const last = jobs[jobs.length - 1]?.Seq ?? 0;
  const entries: ArchivedOutput[] = await mapLimit(jobs, WRITE_CONCURRENCY, async (job) => ({
    JobId: job.JobId,
    Seq: job.Seq ?? 0,
    ...(job.OutputKey
      ? { OutputJson: await getOutputJson(job.OutputKey) }
      : job.OutputJson !== undefined
        ? { OutputJson: job.OutputJson }
        : {}),
  }));
  const body = await encodeUnit(entries);
  const objectKey = unitObjectKey(username, sessionId, first, last);
  const fresh: ArchiveUnit = {
    Username: username,
    Key: unitKey(sessionId, first),
    SessionId: sessionId,
    First: first,
    Last: last,
    ObjectKey: objectKey,
    Jobs: jobs.length,
    Bytes: body.length,
    State: UnitStates.archived,
    Archived: new Date(now).toISOString(),
  };
  const { DeleteObjectCommand, PutObjectCommand, s3Client } = await s3Module();
  // The object first: no item ever names an object that is not there.
  await s3Client().send(
    new PutObjectCommand({
      Bucket: config.resultsBucket,
      Key: objectKey,
      Body: body,
      ContentType: "application/x-ndjson",
      ContentEncoding: "gzip",
      StorageClass: config.archiveStorageClass,
    }),
  );
  // A crashed run's unit, if there is one: its object holds these jobs' outputs already.
  const unit = await putUnit(fresh);
  if (unit.ObjectKey !== objectKey) {
    await s3Client().send(new DeleteObjectCommand({ Bucket: config.resultsBucket, Key: objectKey }));
  }
  const unitId = unitIdOf(unit);
  const covered = jobs.filter((job) => (job.Seq ?? 0) >= unit.First && (job.Seq ?? 0) <= unit.Last);
  await addArchivedRange(sessionId, unit.First, unit.Last);
  await mapLimit(covered, WRITE_CONCURRENCY, async (job) => {
    const stripped = await archiveJobOutput(sessionId, job.JobId, job.Seq ?? 0, unitId);
    // The large output's own object goes once the item no longer points at it.
    if (stripped && job.OutputKey) {
      await s3Client().send(new DeleteObjectCommand({ Bucket: config.resultsBucket, Key: job.OutputKey }));
    }
  });
  return { jobs: covered.length, last: unit.Last };
}
