/**
 * @module jobs/append-jobs
 * Appending jobs to a session: validate the whole request first (so a rejected request changes
 * nothing), then write every job with putNewJobs (job-store.ts): conditional puts in
 * transactions, all or nothing. Job ids come back in request order.
 *
 * What is refused up front, each a 400 naming the job and the field: more than MAX_APPEND_JOBS
 * jobs (413); an Input over MAX_INPUT_BYTES of UTF-8 JSON (room is left for the largest inline
 * output, so the finished job still fits a DynamoDB item); nesting deeper than MAX_INPUT_DEPTH;
 * numbers JSON cannot hold; `__proto__` keys (json-rules.ts).
 *
 * Retries, which must never double jobs:
 * - With an Idempotency-Key the handler replays the first answer (Powertools idempotency), and
 *   the job ids are derived from the key, so a retry whose first attempt died writes only what
 *   is missing; a key reused with another body (also after its 24 h window) answers 409.
 * - Jobs that carry a client `Id` are written once: a retried identical job is recognised by its
 *   fingerprint, a different one with the same Id is a 409.
 * - Neither (FOQUS sends neither): the same body appended again to the same session while every
 *   job of its earlier copy is still unstarted (`create`) answers the earlier copy's ids. FOQUS
 *   starts after every chunk, so a retried append whose first response was lost arrives before
 *   that start; an identical body appended after the start is a new append. (To append the same
 *   jobs twice before starting, send an Idempotency-Key or job Ids.) The record of the latest
 *   copy is written in the same transaction as its first jobs.
 */
import { createHash, randomUUID } from "node:crypto";
import { resolveApplication } from "../applications.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { ConflictError, PayloadTooLargeError, ValidationError } from "../errors.ts";
import { assertStorableJson } from "../json-rules.ts";
import { MAX_APPEND_JOBS, MAX_INPUT_BYTES, MAX_INPUT_DEPTH } from "../limits.ts";
import { appendRecordItem, readAppendRecord } from "../results/result-store.ts";
import { getOpenSession } from "../sessions/session-store.ts";
import { findSimulations } from "../simulations/simulation-store.ts";
import { validate } from "../validation.ts";
import * as z from "../zod.ts";
import { type JobItem, type JobRequest, JobRequestSchema } from "./job.ts";
import { getJobs, JobsExistError, putNewJobs } from "./job-store.ts";
import { JobStates } from "./states.ts";

const AppendRequestSchema = z.array(JobRequestSchema, {
  error: 'The body must be a JSON array of jobs like [{"Simulation":"name","Input":{}}]',
});

export interface AppendOptions {
  /** The client's Idempotency-Key header, when it sent one. */
  idempotencyKey?: string | undefined;
  clock?: Clock;
}

/** A job id that is the same on every retry of the same (user, session, key, position). */
export function idempotentJobId(username: string, sessionId: string, key: string, index: number): string {
  const hex = createHash("sha256").update(`${username}\n${sessionId}\n${key}\n${index}`).digest("hex");
  // Shaped as a version-5-style UUID so clients that parse ids as UUIDs keep working.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function fingerprint(
  job: Pick<JobItem, "Simulation" | "Application" | "InputJson" | "Initialize" | "Reset">,
): string {
  return createHash("sha256")
    .update(JSON.stringify([job.Simulation, job.Application, job.InputJson, job.Initialize, job.Reset]))
    .digest("base64url");
}

/** What the raw body must be before it is parsed into jobs: a list of at most MAX_APPEND_JOBS. */
function checkBody(body: unknown): void {
  if (!Array.isArray(body)) return; // the schema says what is wrong
  if (body.length > MAX_APPEND_JOBS) {
    throw new PayloadTooLargeError(
      `An append takes at most ${MAX_APPEND_JOBS} jobs; this one has ${body.length}. Split it into several appends.`,
    );
  }
  body.forEach((job, index) => {
    if (typeof job !== "object" || job === null) return;
    for (const field of ["Input", "Inputs"] as const) {
      if (field in job)
        assertStorableJson((job as Record<string, unknown>)[field], `[${index}].${field}`, MAX_INPUT_DEPTH);
    }
  });
}

export async function appendJobs(
  username: string,
  sessionId: string,
  body: unknown,
  options: AppendOptions = {},
): Promise<string[]> {
  checkBody(body);
  const requests: JobRequest[] = validate(AppendRequestSchema, body, "job list");
  await getOpenSession(username, sessionId);
  const jobs = await toJobItems(username, sessionId, requests, options);

  // Ids the client chose (or derived from its key) say by themselves which jobs a retry repeats.
  const chosen = options.idempotencyKey
    ? jobs.map((job) => job.JobId)
    : jobs.filter((_, index) => requests[index]?.Id !== undefined).map((job) => job.JobId);
  if (chosen.length === 0) return appendOnceUnstarted(sessionId, jobs);
  const conflict = options.idempotencyKey ? "IdempotencyKeyReused" : "JobIdConflict";
  await writeNew(await withoutAlreadyAppended(sessionId, jobs, chosen, conflict), conflict);
  return jobs.map((job) => job.JobId);
}

/** The job items of a valid request, or a 400 for the first job that cannot be stored. */
async function toJobItems(
  username: string,
  sessionId: string,
  requests: JobRequest[],
  options: AppendOptions,
): Promise<JobItem[]> {
  const simulations = await findSimulations(
    username,
    requests.map((job) => job.Simulation),
  );
  const now = isoNow(options.clock ?? systemClock);
  const seenIds = new Set<string>();
  return requests.map((request, index) => {
    const simulation = simulations.get(request.Simulation);
    if (!simulation) {
      throw new ValidationError(
        `Simulation "${request.Simulation}" does not exist for this user; create it with PUT /simulation/${request.Simulation}.`,
        `[${index}].Simulation`,
        "UnknownSimulation",
      );
    }
    const application = resolveApplication(
      request.Application ?? simulation.Application,
      `[${index}].Application`,
    );
    const inputJson = JSON.stringify(request.Input ?? request.Inputs ?? {});
    const inputBytes = Buffer.byteLength(inputJson);
    if (inputBytes > MAX_INPUT_BYTES) {
      throw new ValidationError(
        `Input is ${inputBytes} bytes of JSON (UTF-8); at most ${MAX_INPUT_BYTES} fit in a job beside its output. Stage large data as a simulation input file.`,
        `[${index}].Input`,
      );
    }
    const jobId =
      request.Id ??
      (options.idempotencyKey
        ? idempotentJobId(username, sessionId, options.idempotencyKey, index)
        : randomUUID());
    if (seenIds.has(jobId)) {
      throw new ValidationError(
        `Job Id "${jobId}" appears twice in this request; ids must be unique.`,
        `[${index}].Id`,
      );
    }
    seenIds.add(jobId);
    const job: Omit<JobItem, "Fingerprint"> = {
      SessionId: sessionId,
      JobId: jobId,
      Username: username,
      Simulation: request.Simulation,
      Application: application,
      InputJson: inputJson,
      Initialize: request.Initialize ?? false,
      Reset: request.Reset ?? true,
      State: JobStates.create,
      Create: now,
      Ordinal: `${now}#${String(index).padStart(4, "0")}`,
    };
    return { ...job, Fingerprint: fingerprint(job) };
  });
}

type Conflict = "IdempotencyKeyReused" | "JobIdConflict";

const CONFLICT_ADVICE: Record<Conflict, (jobId: string) => string> = {
  IdempotencyKeyReused: () =>
    "This Idempotency-Key was already used for an append of this session with a different body; send a new key for a new append.",
  JobIdConflict: (jobId) =>
    `Job Id "${jobId}" already exists in this session with different content; use a new Id for a new job.`,
};

/** Writes jobs whose ids must be new; an id taken meanwhile by another request is a 409. */
async function writeNew(
  jobs: JobItem[],
  conflict: Conflict = "JobIdConflict",
  alongside?: Parameters<typeof putNewJobs>[1],
): Promise<void> {
  try {
    await putNewJobs(jobs, alongside);
  } catch (error) {
    if (!(error instanceof JobsExistError)) throw error;
    const jobId = error.jobIds[0] ?? "";
    throw new ConflictError(conflict, CONFLICT_ADVICE[conflict](jobId), {
      details: { jobIds: error.jobIds },
    });
  }
}

/** The hash of what a body asks for: its jobs' fingerprints, in order. */
function bodyHash(jobs: JobItem[]): string {
  return createHash("sha256")
    .update(jobs.map((job) => job.Fingerprint).join("\n"))
    .digest("base64url");
}

/**
 * The FOQUS retry rule: an earlier copy of this body whose jobs are all unstarted answers its ids
 * (writing any the earlier attempt did not get to); otherwise the jobs are new.
 */
async function appendOnceUnstarted(sessionId: string, jobs: JobItem[]): Promise<string[]> {
  const hash = bodyHash(jobs);
  const earlierIds = await readAppendRecord(sessionId, hash);
  if (earlierIds && earlierIds.length === jobs.length) {
    const earlier = new Map(
      (await getJobs(sessionId, earlierIds, ["JobId", "State"])).map((job) => [job.JobId, job.State]),
    );
    if ([...earlier.values()].every((state) => state === JobStates.create)) {
      const missing = jobs
        .map((job, i) => ({ ...job, JobId: earlierIds[i] as string }))
        .filter((job) => !earlier.has(job.JobId));
      if (missing.length > 0) await writeNew(missing);
      return earlierIds;
    }
  }
  const ids = jobs.map((job) => job.JobId);
  await writeNew(jobs, "JobIdConflict", [appendRecordItem(sessionId, hash, ids)]);
  return ids;
}

/**
 * Drops jobs whose chosen id already exists with the same content (a retry), and rejects the
 * request if one exists with different content. Nothing is written either way.
 */
async function withoutAlreadyAppended(
  sessionId: string,
  jobs: JobItem[],
  chosenIds: string[],
  conflict: Conflict,
): Promise<JobItem[]> {
  const existing = new Map(
    (await getJobs(sessionId, chosenIds, ["JobId", "Fingerprint"])).map((job) => [
      job.JobId,
      job.Fingerprint,
    ]),
  );
  for (const job of jobs) {
    const stored = existing.get(job.JobId);
    if (stored !== undefined && stored !== job.Fingerprint) {
      throw new ConflictError(conflict, CONFLICT_ADVICE[conflict](job.JobId), {
        details: { jobId: job.JobId },
      });
    }
  }
  return jobs.filter((job) => !existing.has(job.JobId));
}
