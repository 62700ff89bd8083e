/**
 * @module jobs/job-store
 * The jobs table: (SessionId, JobId), with the local secondary index ByState (SessionId, State)
 * so start, stop and kill read exactly the jobs they change, with consistent reads. Every write
 * of job state is here. Each one, its condition, what it answers when the condition fails, and
 * the race the condition guards:
 *
 * - putNewJobs (append): `jobIsNew` on every job, in transactions of up to 100 items and 4 MB;
 *   a transaction that fails cancels whole, and the ones before it are rolled back (deleted, only
 *   while still `create`), so an append is all or nothing. "exists" names the jobs whose id is
 *   taken. A finished job is never reset to `create` by a reused id (a client `Id`, or an
 *   Idempotency-Key reused after its window), and two concurrent appends of one id cannot both
 *   write it.
 * - moveJob (start: create/pause → submit; stop: submit → pause): `stateIs(from)`; false when it
 *   fails. Two starts, or a start and a stop, at once: only the caller whose write won publishes.
 * - advanceJob (the processor: setup, running): `stateAllows(to)`, a lower-rank, non-terminal
 *   state, and `ownedBy(username)`; "stale" when it fails, "foreign" when the event named
 *   somebody else as the owner. Duplicate, late and reordered events change nothing, and an
 *   event that code on a worker forged about another user's job changes nothing either.
 * - finishJob (the processor: success, error, terminate): one transaction of `stateAllows(to)`
 *   and `ownedBy(username)` on the job with the result store's `counterAt(seq - 1)` and `seqFree(seq)`; "stale" when the
 *   job was already terminal, "contended" when another job of the session took `seq` first. The
 *   first terminal state wins, each terminal job gets exactly one finish number, and the state
 *   and the output are one write: no reader sees a finished job without its output.
 * - holdLease (the processor: job.heartbeat, and job.setup/job.running whose advanceJob was
 *   stale): the job in setup or running (`stateIn`) and `ownedBy(username)`, and either
 *   `leaseHeldBy(consumer, at)` (the same attempt, and its newest word: an event of its own that
 *   is later than the one recorded, LeaseAt, wins, so a late heartbeat never undoes a newer one
 *   or a release) or `leaseEnded(at)` (the recorded lease had ended when this attempt sent the
 *   event: that attempt is dead by definition and this one takes the job over). Sets
 *   ConsumerId, LeaseUntil and LeaseAt, never the state or a timestamp. "stale" when it fails,
 *   "foreign" for another owner. A late heartbeat of a dead attempt never overrides the attempt
 *   that replaced it, a finished job is never touched, and an attempt that redelivery started
 *   after a death gets the record, so duplicates of its job see it live.
 * - archiveJobOutput (the archiver, core/tiers/archive-session.ts): `finishedAs(seq)` (the job is
 *   there, terminal with that finish number) and not yet archived; false when it fails. Removes
 *   the output and records the archive unit that holds it: a job deleted meanwhile is never
 *   brought back, and an output is never archived twice.
 * - restoreJobOutput (the restorer): `archivedIn(unit)`; false when it fails (already restored,
 *   or gone). Puts the output back and removes the marker: a restore notification delivered
 *   twice, or a run that crashed half-way and runs again, changes nothing the second time.
 * - deleteSessionJobs: unconditional (the session is being deleted).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, batchWrite, queryAll } from "../aws/dynamo-batch.ts";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { mapLimit } from "../concurrency.ts";
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

/** A job as the update processor names it: its key and the owner the event claims. */
export interface OwnedJobKey {
  sessionId: string;
  jobId: string;
  username: string;
}

/** Condition: the job belongs to `username` (an event about somebody else's job changes nothing). */
function ownedBy(username: string): Condition {
  return { expression: "#owner = :owner", names: { "#owner": "Username" }, values: { ":owner": username } };
}

/**
 * Condition: the recorded lease is `consumer`'s own, announced before `at` (a late or repeated
 * lease event of the attempt changes nothing).
 */
function leaseHeldBy(consumer: string, at: string): Condition {
  return {
    expression: "(#consumer = :consumer AND (attribute_not_exists(#leaseAt) OR #leaseAt < :at))",
    names: { "#consumer": "ConsumerId", "#leaseAt": "LeaseAt" },
    values: { ":consumer": consumer, ":at": at },
  };
}

/** Condition: no lease is recorded, or it had ended by `at` (its attempt is no longer live). */
function leaseEnded(at: string): Condition {
  return {
    expression: "(attribute_not_exists(#lease) OR #lease <= :at)",
    names: { "#lease": "LeaseUntil" },
    values: { ":at": at },
  };
}

/** Condition: the job is in one of `states`. */
function stateIn(states: JobState[]): Condition {
  const values: Record<string, string> = {};
  states.forEach((state, i) => {
    values[`:in${i}`] = state;
  });
  return {
    expression: `#state IN (${Object.keys(values).join(", ")})`,
    names: { "#state": "State" },
    values,
  };
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

const TRANSACTION_ITEMS = 100; // DynamoDB TransactWriteItems: 100 items
const TRANSACTION_BYTES = 4 * 1024 * 1024; // and 4 MB per call

/** Thrown by putNewJobs when some ids already exist; nothing of the append was kept. */
export class JobsExistError extends Error {
  constructor(readonly jobIds: string[]) {
    super(`jobs ${jobIds.join(", ")} already exist`);
    this.name = "JobsExistError";
  }
}

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]
>[number];

function newJobItem(job: JobItem): TransactItem {
  return {
    Put: {
      TableName: config.jobsTable,
      Item: job,
      // jobIsNew: an existing job, finished or not, is never overwritten.
      ConditionExpression: "attribute_not_exists(JobId)",
    },
  };
}

/** Splits items into transactions within DynamoDB's count and size limits. */
function transactions(items: { item: TransactItem; bytes: number }[]): TransactItem[][] {
  const out: TransactItem[][] = [];
  let current: TransactItem[] = [];
  let bytes = 0;
  for (const entry of items) {
    if (
      current.length === TRANSACTION_ITEMS ||
      (current.length > 0 && bytes + entry.bytes > TRANSACTION_BYTES)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry.item);
    bytes += entry.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Writes new jobs, all or nothing, with `alongside` (items of other tables, e.g. the append's
 * record) in the first transaction. Throws JobsExistError when an id is taken.
 */
export async function putNewJobs(jobs: JobItem[], alongside: TransactItem[] = []): Promise<void> {
  const sized = [
    ...alongside.map((item) => ({ item, bytes: 1024 })),
    ...jobs.map((job) => ({ item: newJobItem(job), bytes: Buffer.byteLength(JSON.stringify(job)) })),
  ];
  const done: TransactItem[][] = [];
  for (const batch of transactions(sized)) {
    try {
      await documentDbClient().send(new TransactWriteCommand({ TransactItems: batch }));
      done.push(batch);
    } catch (error) {
      await rollBack(done.flat());
      if (error instanceof TransactionCanceledException) {
        const taken = (error.CancellationReasons ?? [])
          .map((reason, i) =>
            reason.Code === "ConditionalCheckFailed" ? batch[i]?.Put?.Item?.JobId : undefined,
          )
          .filter((id): id is string => typeof id === "string");
        if (taken.length > 0) throw new JobsExistError(taken);
      }
      throw error;
    }
  }
}

/** Deletes what an append wrote before it failed; a job some start already claimed stays. */
async function rollBack(written: TransactItem[]): Promise<void> {
  await mapLimit(written, 8, async (item) => {
    const put = item.Put;
    const written = put?.Item;
    if (!put || !written) return;
    const isJob = put.TableName === config.jobsTable;
    try {
      await documentDbClient().send(
        new DeleteCommand({
          TableName: put.TableName,
          Key: isJob
            ? { SessionId: written.SessionId, JobId: written.JobId }
            : { SessionId: written.SessionId, Key: written.Key },
          ...(isJob
            ? {
                ConditionExpression: "#state = :create",
                ExpressionAttributeNames: { "#state": "State" },
                ExpressionAttributeValues: { ":create": "create" },
              }
            : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  });
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
  options: { signal?: AbortSignal | undefined } = {},
): Promise<Map<string, JobItem>> {
  const jobs = await batchGet<JobItem>(
    config.jobsTable,
    keys.map(({ sessionId, jobId }) => ({ SessionId: sessionId, JobId: jobId })),
    attributes && ["SessionId", ...attributes],
    options,
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
function forwardUpdate(key: OwnedJobKey, to: JobState, fields: JobFields, missing: MissingFields) {
  const state = stateAllows(to);
  const owner = ownedBy(key.username);
  const names: Record<string, string> = { ...state.names, ...owner.names };
  const values: Record<string, unknown> = { ...state.values, ...owner.values, ":to": to };
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
    ConditionExpression: `${state.expression} AND ${owner.expression}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    // When the condition fails, the job as it was tells a late event from a foreign one.
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  };
}

/** Why a forward update's condition failed: a job of another owner, or already past `to` (or gone). */
function refusal(key: OwnedJobKey, old: Record<string, unknown> | undefined): "foreign" | "stale" {
  // The item comes back as DynamoDB wrote it ({S: "…"}), or unmarshalled.
  const raw = old?.Username as { S?: string } | string | undefined;
  const owner = typeof raw === "string" ? raw : raw?.S;
  return owner !== undefined && owner !== key.username ? "foreign" : "stale";
}

/**
 * Moves a job forward to a progress state (setup, running) with `fields`, only from a state of
 * lower rank. "stale" when the job had already moved past it (or is gone).
 */
export async function advanceJob(
  key: OwnedJobKey,
  to: JobState,
  fields: JobFields,
  missing: MissingFields = {},
): Promise<"applied" | "stale" | "foreign"> {
  try {
    await documentDbClient().send(new UpdateCommand(forwardUpdate(key, to, fields, missing)));
    return "applied";
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      return refusal(key, error.Item as Record<string, unknown> | undefined);
    throw error;
  }
}

/** One job of finishJobs: its key, the terminal state, what to set, and what to set where missing. */
export interface FinishEntry {
  key: OwnedJobKey;
  to: JobState;
  fields: JobFields;
  missing?: MissingFields;
}

/** Why finishJobs refused an entry: already terminal or gone, another owner's, or an item DynamoDB refuses. */
export type FinishRefusal = "stale" | "foreign" | "invalid";

/**
 * What finishJobs did: all written; nothing written because the counter was not at `first - 1`
 * or a number was taken ("contended": read the counter again); or nothing written because the
 * entries at these indexes failed their own condition (retry with the rest).
 */
export type FinishOutcome =
  | { kind: "applied" }
  | { kind: "contended" }
  | { kind: "refused"; refused: Map<number, FinishRefusal> };

/** Jobs finishJobs may end in one call: each takes a job item and a finish entry, plus the counter. */
export const MAX_FINISH_BATCH = Math.floor((TRANSACTION_ITEMS - 1) / 2);

/**
 * Ends jobs of session `sessionId` together, numbered `first`, `first + 1`, … in order, in one
 * transaction that also advances the session's finish counter from `first - 1` to the last
 * number and records each number's job. All or nothing: the answer says why nothing was
 * written, and for which entries (see FinishOutcome). At most MAX_FINISH_BATCH entries.
 */
export async function finishJobs(
  sessionId: string,
  first: number,
  entries: FinishEntry[],
): Promise<FinishOutcome> {
  if (entries.length === 0) return { kind: "applied" };
  if (entries.length > MAX_FINISH_BATCH)
    throw new RangeError(`finishJobs takes at most ${MAX_FINISH_BATCH} jobs, not ${entries.length}`);
  const last = first + entries.length - 1;
  try {
    await documentDbClient().send(
      new TransactWriteCommand({
        TransactItems: [
          ...entries.map((entry, i) => ({
            Update: forwardUpdate(
              entry.key,
              entry.to,
              { ...entry.fields, Seq: first + i },
              entry.missing ?? {},
            ),
          })),
          counterAdvanceItem(sessionId, first - 1, last),
          ...entries.map((entry, i) => finishEntryItem(sessionId, first + i, entry.key.jobId)),
        ],
      }),
    );
    return { kind: "applied" };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    const refused = new Map<number, FinishRefusal>();
    const n = entries.length;
    reasons.forEach((reason, i) => {
      // An item DynamoDB refuses outright (over 400 KB) is no contention: name the entry it belongs to.
      if (reason.Code === "ValidationError") refused.set(i < n ? i : i > n ? i - n - 1 : 0, "invalid");
      else if (i < n && reason.Code === "ConditionalCheckFailed")
        refused.set(i, refusal(entries[i]!.key, reason.Item as Record<string, unknown> | undefined));
    });
    return refused.size > 0 ? { kind: "refused", refused } : { kind: "contended" };
  }
}

/**
 * Ends one job in terminal state `to` with `fields` (output, message…) and finish number `seq`
 * (finishJobs with one entry). "stale" when the job was already terminal (or is gone);
 * "contended" when another terminal job of the session took `seq` first (read the counter again).
 * Throws a ValidationException when DynamoDB refuses the item (over 400 KB).
 */
export async function finishJob(
  key: OwnedJobKey,
  to: JobState,
  seq: number,
  fields: JobFields,
  missing: MissingFields = {},
): Promise<"applied" | "stale" | "foreign" | "contended"> {
  const outcome = await finishJobs(key.sessionId, seq, [{ key, to, fields, missing }]);
  if (outcome.kind !== "refused") return outcome.kind;
  const why = outcome.refused.get(0) ?? "stale";
  if (why === "invalid")
    throw Object.assign(new Error("DynamoDB refused the job item (over 400 KB)"), {
      name: "ValidationException",
    });
  return why;
}

/**
 * Records that the attempt of `consumer` holds the job's lease until `until` (ISO-8601), as of
 * its event's time `at`: its own lease renewed (or ended, `until` = `at`: released), or an ended
 * one taken over. Changes neither the state nor any timestamp. "stale" when the job is not in
 * setup or running, another attempt's lease was still live at `at`, or a later event of this
 * attempt is already recorded.
 */
export async function holdLease(
  key: OwnedJobKey,
  consumer: string,
  until: string,
  at: string,
): Promise<"applied" | "stale" | "foreign"> {
  const state = stateIn(["setup", "running"]);
  const owner = ownedBy(key.username);
  const held = leaseHeldBy(consumer, at);
  const ended = leaseEnded(at);
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.jobsTable,
        Key: { SessionId: key.sessionId, JobId: key.jobId },
        UpdateExpression: "SET #consumer = :consumer, #lease = :until, #leaseAt = :at",
        ConditionExpression: `${state.expression} AND ${owner.expression} AND (${held.expression} OR ${ended.expression})`,
        ExpressionAttributeNames: { ...state.names, ...owner.names, ...held.names, ...ended.names },
        ExpressionAttributeValues: {
          ...state.values,
          ...owner.values,
          ...held.values,
          ...ended.values,
          ":until": until,
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return "applied";
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      return refusal(key, error.Item as Record<string, unknown> | undefined);
    throw error;
  }
}

/**
 * The archiver moves a finished job's output into archive unit `unit`: the output leaves the
 * item, a marker says where it went. False when the job is gone, not finished as `seq`, or
 * already archived.
 */
export async function archiveJobOutput(
  sessionId: string,
  jobId: string,
  seq: number,
  unit: string,
): Promise<boolean> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.jobsTable,
        Key: { SessionId: sessionId, JobId: jobId },
        UpdateExpression: "SET #unit = :unit REMOVE #output, #outputKey",
        ConditionExpression: "#seq = :seq AND attribute_not_exists(#unit)", // finishedAs(seq)
        ExpressionAttributeNames: {
          "#unit": "ArchiveUnit",
          "#output": "OutputJson",
          "#outputKey": "OutputKey",
          "#seq": "Seq",
        },
        ExpressionAttributeValues: { ":unit": unit, ":seq": seq },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * The restorer puts a job's output back from archive unit `unit` (`output` is the inline JSON or
 * the key of the S3 object that holds it). False when the job is gone or no longer archived there.
 */
export async function restoreJobOutput(
  sessionId: string,
  jobId: string,
  unit: string,
  output: { OutputJson: string } | { OutputKey: string } | Record<string, never>,
): Promise<boolean> {
  const [field, value] = Object.entries(output)[0] ?? [];
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.jobsTable,
        Key: { SessionId: sessionId, JobId: jobId },
        UpdateExpression: field ? "SET #field = :value REMOVE #unit" : "REMOVE #unit",
        ConditionExpression: "#unit = :unit", // archivedIn(unit)
        ExpressionAttributeNames: { "#unit": "ArchiveUnit", ...(field ? { "#field": field } : {}) },
        ExpressionAttributeValues: { ":unit": unit, ...(field ? { ":value": value } : {}) },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
