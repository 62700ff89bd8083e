/**
 * @module jobs/job-by-id
 * The turbine client's `[Job]` URL: a job named by its id alone (FOQUS desktop's per-node Turbine
 * runs and `turbine_job_script -j ID`). The job is found through the ByJob index among the
 * caller's own jobs only, so another user's id is simply not found.
 */
import { ArchivedError, ConflictError, NotFoundError } from "../errors.ts";
import { newEvent, publishEvents } from "../events/event-publisher.ts";
import { EventTypes } from "../events/events.ts";
import { jobItemsToFullRecords } from "../results/job-records.ts";
import type { JobItem, JobRecord } from "./job.ts";
import { findJobKeysById, getJob } from "./job-store.ts";
import { KILLABLE_STATES } from "./states.ts";

/**
 * The shape of every job id: a UUID, or a client's `Id` (job.ts). Anything else names no job and
 * is not looked up (a 3,000-character id would fail DynamoDB's key limit).
 */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

async function findJob(username: string, jobId: string): Promise<JobItem> {
  const notFound = new NotFoundError(
    "JobNotFound",
    `Job ${jobId.slice(0, 100)} does not exist for this user; GET /session/{sid} lists the jobs of a session.`,
  );
  if (!JOB_ID.test(jobId)) throw notFound;
  const keys = await findJobKeysById(username, jobId);
  if (keys.length === 0) throw notFound;
  if (keys.length > 1) {
    throw new ConflictError(
      "AmbiguousJobId",
      `Job id ${jobId} is used in ${keys.length} of your sessions (${keys.map((key) => key.SessionId).join(", ")}); read it through GET /session/{sid} instead.`,
    );
  }
  const [key] = keys as [{ SessionId: string; JobId: string }];
  const job = await getJob(key.SessionId, key.JobId);
  if (!job) throw notFound; // deleted since the index saw it
  return job;
}

/** The job's record, its output in full (also when it is kept in S3). */
export async function getJobRecordById(username: string, jobId: string): Promise<JobRecord> {
  const job = await findJob(username, jobId);
  if (job.ArchiveUnit) {
    throw new ArchivedError(
      `The output of job ${jobId} is archived: a free plan keeps results readable for a grace period after they finish. Upgrading the account to the premium plan restores it (an admin runs \`foqus-admin plan <user> premium\`, or PUT /user/{name}/plan). The job's state and times stay readable in GET /session/${job.SessionId}.`,
      { details: { jobId, state: job.State } },
    );
  }
  const [record] = await jobItemsToFullRecords([job]);
  return record as JobRecord;
}

/**
 * Kills one job, as a session kill does for all: publishes `job.terminate` (the update processor
 * ends the job; a worker running it stops within a heartbeat). Answers 1 when a terminate was
 * sent, 0 when the job had already finished (the turbine client reads 1 as "accepted").
 */
export async function terminateJobById(username: string, jobId: string): Promise<number> {
  const job = await findJob(username, jobId);
  if (!KILLABLE_STATES.includes(job.State)) return 0;
  await publishEvents([
    newEvent({
      event: EventTypes.jobTerminate,
      username,
      session: job.SessionId,
      job: job.JobId,
      application: job.Application,
      message: "Job terminated",
    }),
  ]);
  return 1;
}
