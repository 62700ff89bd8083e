/**
 * @module jobs/job-key-pages
 * Bounded reads of a session's jobs through the ByState index, whose entries are a job's keys,
 * state and routing attributes (a few dozen bytes, whatever the job's Input and Output): the
 * pages the fan-outs work through (sessions/fan-out.ts), and the offsets of the paged session
 * listing. Every call reads at most what its `limit` names; none writes.
 *
 * Index order is (State, JobId). Following `next` visits every entry of a state once while none
 * of them changes state; a job that changes state between two reads of a whole-session walk may
 * be seen twice or not at all, as in any paged view of live data.
 */
import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { config } from "../config.ts";
import type { JobItem } from "./job.ts";
import { BY_STATE_INDEX } from "./job-store.ts";
import type { JobState } from "./states.ts";

/** A job as the ByState index holds it. */
export type JobKey = Pick<JobItem, "SessionId" | "JobId" | "State" | "Application" | "Username">;

/** DynamoDB's key of the last entry read (where the next read starts). */
export type JobKeyCursor = Record<string, string>;

/** The index Query of the session's jobs (in `state`); `projected`: the entries come back whole. */
function indexQuery(sessionId: string, state: JobState | undefined, projected: boolean): QueryCommandInput {
  // DynamoDB refuses an attribute name that no expression uses.
  const namesState = state !== undefined || projected;
  return {
    TableName: config.jobsTable,
    IndexName: BY_STATE_INDEX,
    KeyConditionExpression: state === undefined ? "SessionId = :sid" : "SessionId = :sid AND #state = :state",
    ...(namesState ? { ExpressionAttributeNames: { "#state": "State" } } : {}),
    ExpressionAttributeValues: { ":sid": sessionId, ...(state === undefined ? {} : { ":state": state }) },
    ...(projected
      ? { ProjectionExpression: "SessionId, JobId, #state, Application, Username" }
      : { Select: "COUNT" as const }),
    ConsistentRead: true,
  };
}

/**
 * At most `limit` index entries of the session's jobs (Infinity: all), in `state` or (without
 * one) in every state, from `after`. `next` is where the following read starts; undefined once the entries
 * ran out (it may also be set when they ran out exactly at `limit`: the next read is then empty).
 */
export async function queryJobKeys(
  sessionId: string,
  options: { state?: JobState | undefined; limit: number; after?: JobKeyCursor | undefined },
): Promise<{ keys: JobKey[]; next: JobKeyCursor | undefined }> {
  const keys: JobKey[] = [];
  let next = options.after;
  // One Query reads at most 1 MB: a page of small entries may take more than one.
  do {
    const result = await documentDbClient().send(
      new QueryCommand({
        ...indexQuery(sessionId, options.state, true),
        ...(Number.isFinite(options.limit) ? { Limit: options.limit - keys.length } : {}),
        ...(next ? { ExclusiveStartKey: next } : {}),
      }),
    );
    keys.push(...((result.Items ?? []) as JobKey[]));
    next = result.LastEvaluatedKey as JobKeyCursor | undefined;
  } while (next && keys.length < options.limit);
  return { keys, next };
}

/**
 * Counts the session's jobs (in `state`, or all), up to `upTo` at most: `Select: COUNT` over the
 * index, so a count costs one Query per megabyte of index entries (about 7,000 jobs).
 */
export async function countJobKeys(
  sessionId: string,
  options: { state?: JobState; upTo?: number } = {},
): Promise<number> {
  let count = 0;
  let next: JobKeyCursor | undefined;
  do {
    const upTo = options.upTo === undefined ? undefined : options.upTo - count;
    const result = await documentDbClient().send(
      new QueryCommand({
        ...indexQuery(sessionId, options.state, false),
        ...(upTo !== undefined ? { Limit: upTo } : {}),
        ...(next ? { ExclusiveStartKey: next } : {}),
      }),
    );
    count += result.Count ?? 0;
    next = result.LastEvaluatedKey as JobKeyCursor | undefined;
  } while (next && (options.upTo === undefined || count < options.upTo));
  return count;
}

/**
 * Where the read after the first `skip` entries of the whole session starts: undefined for 0,
 * "end" when the session has no more than `skip` jobs. Reads index entries only (COUNT: none come
 * back), so page 100 of a 100,000-job session costs about 15 Queries, not a read of 99,000 jobs.
 */
export async function skipJobKeys(
  sessionId: string,
  skip: number,
): Promise<JobKeyCursor | "end" | undefined> {
  if (skip <= 0) return undefined;
  let skipped = 0;
  let next: JobKeyCursor | undefined;
  do {
    const result = await documentDbClient().send(
      new QueryCommand({
        ...indexQuery(sessionId, undefined, false),
        Limit: skip - skipped,
        ...(next ? { ExclusiveStartKey: next } : {}),
      }),
    );
    skipped += result.Count ?? 0;
    next = result.LastEvaluatedKey as JobKeyCursor | undefined;
  } while (next && skipped < skip);
  return skipped < skip || !next ? "end" : next;
}
