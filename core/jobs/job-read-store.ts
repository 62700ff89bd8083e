/**
 * @module jobs/job-read-store
 * Read-only queries of the jobs table for views of a session that must not cost a listing of
 * all its jobs (the console, `foqus-cloud status`): the number of jobs in each state, and one
 * bounded page of the session's jobs, optionally in one state. Both are Queries, never Scans;
 * neither writes anything.
 */
import { paginateQuery, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { config } from "../config.ts";
import type { JobItem } from "./job.ts";
import { BY_STATE_INDEX, getJobs } from "./job-store.ts";
import { type JobState, JobStates } from "./states.ts";

/** DynamoDB's key of the last item a Query returned (where the next page starts). */
export type JobPageKey = Record<string, string>;

/**
 * How many of the session's jobs are in each state: one `Select: COUNT` Query of the ByState
 * index per state, in parallel, consistent. COUNT returns no items, and an index entry is a few
 * keys, so a 10,000-job session costs a handful of small reads, not a listing of its jobs.
 */
export async function countJobsByState(sessionId: string): Promise<Record<JobState, number>> {
  const states = Object.values(JobStates);
  const counts = await Promise.all(
    states.map(async (state) => {
      let count = 0;
      const pages = paginateQuery(
        { client: documentDbClient() },
        {
          TableName: config.jobsTable,
          IndexName: BY_STATE_INDEX,
          KeyConditionExpression: "SessionId = :sid AND #state = :state",
          ExpressionAttributeNames: { "#state": "State" },
          ExpressionAttributeValues: { ":sid": sessionId, ":state": state },
          Select: "COUNT",
          ConsistentRead: true,
        },
      );
      for await (const page of pages) count += page.Count ?? 0;
      return [state, count] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<JobState, number>;
}

export interface JobPageQuery {
  /** Only jobs in this state (the ByState index), else every job (the table, by job id). */
  state?: JobState;
  /** At most this many jobs; a page may hold fewer (DynamoDB stops a Query at 1 MB read). */
  limit: number;
  /** Where the previous page ended (its `next`). */
  startKey?: JobPageKey;
}

/**
 * One page of the session's jobs: in job-id order, or, with a state, that state's jobs from the
 * ByState index, whose entries are then read from the table in one consistent BatchGetItem (the
 * index projects only keys and routing attributes; an LSI's own fetch of the rest costs the same
 * reads, and moto 5 does not do it). `next` is undefined on the last page. The order is stable, so following `next` visits every job exactly once while none
 * changes state; a job that changes state between two pages of a state filter may be missed
 * or seen in both states, as in any paged view of live data.
 */
export async function queryJobPage(
  sessionId: string,
  query: JobPageQuery,
): Promise<{ items: JobItem[]; next: JobPageKey | undefined }> {
  const byState = query.state !== undefined;
  const result = await documentDbClient().send(
    new QueryCommand({
      TableName: config.jobsTable,
      ...(byState
        ? {
            IndexName: BY_STATE_INDEX,
            KeyConditionExpression: "SessionId = :sid AND #state = :state",
            ExpressionAttributeNames: { "#state": "State" },
            ExpressionAttributeValues: { ":sid": sessionId, ":state": query.state },
            ProjectionExpression: "JobId",
          }
        : {
            KeyConditionExpression: "SessionId = :sid",
            ExpressionAttributeValues: { ":sid": sessionId },
          }),
      Limit: query.limit,
      ConsistentRead: true,
      ...(query.startKey ? { ExclusiveStartKey: query.startKey } : {}),
    }),
  );
  const next = result.LastEvaluatedKey as JobPageKey | undefined;
  if (!byState) return { items: (result.Items ?? []) as JobItem[], next };
  const ids = (result.Items ?? []).map((item) => item.JobId as string);
  const byId = new Map((await getJobs(sessionId, ids)).map((job) => [job.JobId, job]));
  // In the index's order; a job deleted between the two reads is simply absent.
  return { items: ids.flatMap((id) => byId.get(id) ?? []), next };
}

/**
 * Whether any job of the session is in flight (submit, setup or running): one Query of at most
 * one index entry. Those three states are one key range of the index ("running" < "setup" <
 * "submit", and nothing else sorts between them), so one BETWEEN covers them.
 */
export async function hasJobsInFlight(sessionId: string): Promise<boolean> {
  const { Count } = await documentDbClient().send(
    new QueryCommand({
      TableName: config.jobsTable,
      IndexName: BY_STATE_INDEX,
      KeyConditionExpression: "SessionId = :sid AND #state BETWEEN :low AND :high",
      ExpressionAttributeNames: { "#state": "State" },
      ExpressionAttributeValues: { ":sid": sessionId, ":low": JobStates.running, ":high": JobStates.submit },
      Select: "COUNT",
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return (Count ?? 0) > 0;
}
