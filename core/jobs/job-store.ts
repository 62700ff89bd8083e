/**
 * @module jobs/job-store
 * The jobs table: (SessionId, JobId), with the local secondary index ByState (SessionId, State)
 * so start, stop and kill read exactly the jobs they change, with consistent reads.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { batchGet, batchWrite, queryAll } from "../aws/dynamo-batch.ts";
import { config } from "../config.ts";
import type { JobItem } from "./job.ts";
import type { JobState } from "./states.ts";

export const BY_STATE_INDEX = "ByState";

/** Stores new jobs with batched writes. */
export async function putJobs(jobs: JobItem[]): Promise<void> {
  await batchWrite(
    config.jobsTable,
    jobs.map((job) => ({ PutRequest: { Item: job } })),
  );
}

/** Jobs of one session by id (missing ids are simply absent). */
export async function getJobs(
  sessionId: string,
  jobIds: string[],
  attributes?: (keyof JobItem)[],
): Promise<JobItem[]> {
  return batchGet<JobItem>(
    config.jobsTable,
    jobIds.map((JobId) => ({ SessionId: sessionId, JobId })),
    attributes,
  );
}

/**
 * Jobs of any sessions by key, in one BatchGetItem per 100 keys, as a map keyed `session/job`
 * (missing jobs are simply absent).
 */
export async function getJobsByKey(
  keys: { sessionId: string; jobId: string }[],
  attributes?: (keyof JobItem)[],
): Promise<Map<string, JobItem>> {
  const jobs = await batchGet<JobItem>(
    config.jobsTable,
    keys.map(({ sessionId, jobId }) => ({ SessionId: sessionId, JobId: jobId })),
    attributes && ["SessionId", ...attributes],
  );
  return new Map(jobs.map((job) => [jobKey(job.SessionId, job.JobId), job]));
}

export const jobKey = (sessionId: string, jobId: string): string => `${sessionId}/${jobId}`;

export async function getJob(sessionId: string, jobId: string): Promise<JobItem | undefined> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.jobsTable,
      Key: { SessionId: sessionId, JobId: jobId },
      ConsistentRead: true,
    }),
  );
  return Item as JobItem | undefined;
}

/** Every job of a session: a paginated Query, never a Scan. */
export async function listSessionJobs(sessionId: string): Promise<JobItem[]> {
  return queryAll<JobItem>({
    TableName: config.jobsTable,
    KeyConditionExpression: "SessionId = :sid",
    ExpressionAttributeValues: { ":sid": sessionId },
    ConsistentRead: true,
  });
}

/** Keys (and routing attributes) of the session's jobs in `state`, from the ByState index. */
export async function listJobsInState(
  sessionId: string,
  state: JobState,
): Promise<Pick<JobItem, "SessionId" | "JobId" | "State" | "Application" | "Username">[]> {
  return queryAll<Pick<JobItem, "SessionId" | "JobId" | "State" | "Application" | "Username">>({
    TableName: config.jobsTable,
    IndexName: BY_STATE_INDEX,
    KeyConditionExpression: "SessionId = :sid AND #state = :state",
    ExpressionAttributeNames: { "#state": "State" },
    ExpressionAttributeValues: { ":sid": sessionId, ":state": state },
    ConsistentRead: true,
  });
}

/** Deletes every job of a session (25 per BatchWriteItem). */
export async function deleteSessionJobs(sessionId: string): Promise<JobItem[]> {
  const jobs = await queryAll<JobItem>({
    TableName: config.jobsTable,
    KeyConditionExpression: "SessionId = :sid",
    ExpressionAttributeValues: { ":sid": sessionId },
    ProjectionExpression: "SessionId, JobId, OutputKey",
  });
  await batchWrite(
    config.jobsTable,
    jobs.map((job) => ({ DeleteRequest: { Key: { SessionId: job.SessionId, JobId: job.JobId } } })),
  );
  return jobs;
}
