/**
 * @module jobs/append-jobs
 * Appending jobs to a session: validate the whole request first (so a rejected request changes
 * nothing), then write every job in batched writes. Job ids come back in request order.
 *
 * Retries: with an Idempotency-Key the handler replays the first answer (Powertools idempotency),
 * and the job ids are derived from the key, so even a retry after a half-written first attempt
 * rewrites the same jobs instead of adding new ones. Without a key, jobs that carry a client `Id`
 * are written once: a retried identical job is recognised by its fingerprint.
 */
import { createHash, randomUUID } from "node:crypto";
import * as z from "zod";
import { resolveApplication } from "../applications.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { ConflictError, PayloadTooLargeError, ValidationError } from "../errors.ts";
import { MAX_APPEND_JOBS } from "../limits.ts";
import { getOpenSession } from "../sessions/session-store.ts";
import { findSimulations } from "../simulations/simulation-store.ts";
import { validate } from "../validation.ts";
import { type JobItem, type JobRequest, JobRequestSchema } from "./job.ts";
import { getJobs, putJobs } from "./job-store.ts";
import { JobStates } from "./states.ts";

/** DynamoDB items are at most 400 KB; keep Input well inside it. */
const MAX_INPUT_JSON_CHARS = 300_000;

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

function checkSize(body: unknown): void {
  if (Array.isArray(body) && body.length > MAX_APPEND_JOBS) {
    throw new PayloadTooLargeError(
      `An append takes at most ${MAX_APPEND_JOBS} jobs; this one has ${body.length}. Split it into several appends.`,
    );
  }
}

export async function appendJobs(
  username: string,
  sessionId: string,
  body: unknown,
  options: AppendOptions = {},
): Promise<string[]> {
  checkSize(body);
  const requests: JobRequest[] = validate(AppendRequestSchema, body, "job list");
  await getOpenSession(username, sessionId);

  const simulations = await findSimulations(
    username,
    requests.map((job) => job.Simulation),
  );
  const now = isoNow(options.clock ?? systemClock);
  const seenIds = new Set<string>();
  const jobs: JobItem[] = requests.map((request, index) => {
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
    if (inputJson.length > MAX_INPUT_JSON_CHARS) {
      throw new ValidationError(
        `Input is ${inputJson.length} characters of JSON; at most ${MAX_INPUT_JSON_CHARS} fit in a job. Stage large data as a simulation input file.`,
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

  const toWrite = await withoutAlreadyAppended(sessionId, jobs, requests);
  await putJobs(toWrite);
  return jobs.map((job) => job.JobId);
}

/**
 * Drops jobs whose client-supplied Id already exists with the same content (a retry), and
 * rejects the request if an Id exists with different content. Nothing is written either way.
 */
async function withoutAlreadyAppended(
  sessionId: string,
  jobs: JobItem[],
  requests: JobRequest[],
): Promise<JobItem[]> {
  const clientIds = jobs.filter((_, index) => requests[index]?.Id !== undefined).map((job) => job.JobId);
  if (clientIds.length === 0) return jobs;
  const existing = new Map(
    (await getJobs(sessionId, clientIds, ["JobId", "Fingerprint"])).map((job) => [
      job.JobId,
      job.Fingerprint,
    ]),
  );
  for (const job of jobs) {
    const stored = existing.get(job.JobId);
    if (stored !== undefined && stored !== job.Fingerprint) {
      throw new ConflictError(
        "JobIdConflict",
        `Job Id "${job.JobId}" already exists in this session with different content; use a new Id for a new job.`,
        { details: { jobId: job.JobId } },
      );
    }
  }
  return jobs.filter((job) => !existing.has(job.JobId));
}
