/**
 * @module sessions/session-listing
 * `GET /session/{sid}`: every job of the caller's session, in append order. Outputs kept in S3
 * are left out (null) here: the result pages carry them in full.
 */
import { type JobRecord, jobItemToRecord } from "../jobs/job.ts";
import { listSessionJobs } from "../jobs/job-store.ts";
import { getSession } from "./session-store.ts";

export async function listSessionJobRecords(username: string, sessionId: string): Promise<JobRecord[]> {
  await getSession(username, sessionId);
  const jobs = await listSessionJobs(sessionId);
  jobs.sort((a, b) => (a.Ordinal < b.Ordinal ? -1 : a.Ordinal > b.Ordinal ? 1 : 0));
  return jobs.map((job) => jobItemToRecord(job));
}
