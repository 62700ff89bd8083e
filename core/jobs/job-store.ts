/**
 * @module jobs/job-store
 * The jobs table: (SessionId, JobId), with the local secondary index ByState (SessionId, State)
 * so start, stop and kill read exactly the jobs they change, with consistent reads. Every write
 * of job state is here. Each one, its condition, what it answers when the condition fails, and
 * the race the condition guards:
 *
 * - putJobs: unconditional (an append writes fresh ids; a retry rewrites the same ones).
 * - moveJob (start: create/pause → submit; stop: submit → pause): `stateIs(from)`; false when it
 *   fails. Two starts, or a start and a stop, at once: only the caller whose write won publishes.
 * - advanceJob (the processor: setup, running): `stateAllows(to)`, a lower-rank, non-terminal
 *   state; "stale" when it fails. Duplicate, late and reordered events change nothing.
 * - finishJob (the processor: success, error, terminate): one transaction of `stateAllows(to)`
 *   on the job with the result store's `counterAt(seq - 1)` and `seqFree(seq)`; "stale" when the
 *   job was already terminal, "contended" when another job of the session took `seq` first. The
 *   first terminal state wins, each terminal job gets exactly one finish number, and the state
 *   and the output are one write: no reader sees a finished job without its output.
 * - deleteSessionJobs: unconditional (the session is being deleted).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { batchGet, batchWrite, queryAll } from "../aws/dynamo-batch.ts";
import { config } from "../config.ts";
import { counterAdvanceItem, finishEntryItem } from "../results/result-store.ts";
import type { JobItem } from "./job.ts";
import { type JobState, statesBefore } from "./states.ts";

/** A condition expression with the names and values it uses. */
interface Condition {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** Condition: the job is in exactly `state`. */
function stateIs(state: JobState): Condition {
  return { expression: "#state = :from", names: { "#state": "State" }, values: { ":from": state } };
}

/** Condition: the job is in a state from which it may move to `to` (a lower rank, never terminal). */
function stateAllows(to: JobState): Condition {
  const values: Record<string, string> = {};
  statesBefore(to).forEach((state, i) => {
    values[`:from${i}`] = state;
  });
  return {
    expression: `#state IN (${Object.keys(values).join(", ")})`,
    names: { "#state": "State" },
    values,
  };
}

export const BY_STATE_INDEX = "ByState";
/** Global index (JobId, Username), keys only: a job found by its id alone, among its owner's. */
export const BY_JOB_INDEX = "ByJob";

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

/**
 * The keys of `username`'s jobs with id `jobId` (usually one; client-supplied ids may repeat
 * across sessions). The index is eventually consistent: a job appended a moment ago may be
 * missing for that moment.
 */
export async function findJobKeysById(
  username: string,
  jobId: string,
): Promise<{ SessionId: string; JobId: string }[]> {
  return queryAll<{ SessionId: string; JobId: string }>({
    TableName: config.jobsTable,
    IndexName: BY_JOB_INDEX,
    KeyConditionExpression: "JobId = :job AND Username = :user",
    ExpressionAttributeValues: { ":job": jobId, ":user": username },
  });
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

/** Deletes every job of a session (25 per BatchWriteItem); answers the jobs deleted. */
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

/**
 * Moves one job from `from` to `to` (the API's transitions: create/pause → submit, submit →
 * pause), stamping Submit when given. False when the job was not in `from`.
 */
export async function moveJob(
  sessionId: string,
  jobId: string,
  from: JobState,
  to: JobState,
  stamp?: { field: "Submit"; value: string },
): Promise<boolean> {
  const condition = stateIs(from);
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.jobsTable,
        Key: { SessionId: sessionId, JobId: jobId },
        UpdateExpression: stamp ? "SET #state = :to, #stamp = :now" : "SET #state = :to",
        ConditionExpression: condition.expression,
        ExpressionAttributeNames: { ...condition.names, ...(stamp ? { "#stamp": stamp.field } : {}) },
        ExpressionAttributeValues: {
          ...condition.values,
          ":to": to,
          ...(stamp ? { ":now": stamp.value } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** What a worker-driven write sets besides the state: attribute → value. */
export type JobFields = Record<string, unknown>;
/** Attributes written only where still missing (timestamps a later event repeats). */
export type MissingFields = Record<string, unknown>;

/**
 * The update that moves a job to `to` (condition stateAllows(to)), setting `fields` and, where
 * still missing, `missing`: one UpdateItem, or one item of a transaction.
 */
function forwardUpdate(
  key: { sessionId: string; jobId: string },
  to: JobState,
  fields: JobFields,
  missing: MissingFields,
) {
  const condition = stateAllows(to);
  const names: Record<string, string> = { ...condition.names };
  const values: Record<string, unknown> = { ...condition.values, ":to": to };
  const sets = ["#state = :to"];
  Object.entries(fields).forEach(([field, value], i) => {
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  });
  Object.entries(missing).forEach(([field, value], i) => {
    names[`#m${i}`] = field;
    values[`:m${i}`] = value;
    sets.push(`#m${i} = if_not_exists(#m${i}, :m${i})`);
  });
  return {
    TableName: config.jobsTable,
    Key: { SessionId: key.sessionId, JobId: key.jobId },
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression: condition.expression,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * Moves a job forward to a progress state (setup, running) with `fields`, only from a state of
 * lower rank. "stale" when the job had already moved past it (or is gone).
 */
export async function advanceJob(
  key: { sessionId: string; jobId: string },
  to: JobState,
  fields: JobFields,
  missing: MissingFields = {},
): Promise<"applied" | "stale"> {
  try {
    await documentDbClient().send(new UpdateCommand(forwardUpdate(key, to, fields, missing)));
    return "applied";
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return "stale";
    throw error;
  }
}

/**
 * Ends a job in terminal state `to` with `fields` (output, message…) and finish number `seq`, in
 * one transaction that also advances the session's finish counter from `seq - 1` and records
 * that `seq` belongs to this job. "stale" when the job was already terminal (or is gone);
 * "contended" when another terminal job of the session took `seq` first (read the counter again).
 */
export async function finishJob(
  key: { sessionId: string; jobId: string },
  to: JobState,
  seq: number,
  fields: JobFields,
  missing: MissingFields = {},
): Promise<"applied" | "stale" | "contended"> {
  try {
    await documentDbClient().send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: forwardUpdate(key, to, { ...fields, Seq: seq }, missing) },
          counterAdvanceItem(key.sessionId, seq - 1, seq),
          finishEntryItem(key.sessionId, seq, key.jobId),
        ],
      }),
    );
    return "applied";
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const [jobReason] = error.CancellationReasons ?? [];
    return jobReason?.Code === "ConditionalCheckFailed" ? "stale" : "contended";
  }
}
