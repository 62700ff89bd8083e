/**
 * @module jobs/apply-event
 * Applies one event to the store: the update processor's whole job. Every write is conditional
 * on the job's current state, so a duplicate, late or reordered event changes nothing:
 *
 * - `job.setup`, `job.running`: one UpdateItem that moves the job forward only from a state of
 *   lower rank (statesBefore), stamping the state's timestamp and the consumer.
 * - `job.success`, `job.error`, `job.terminate`: one transaction that (1) writes the terminal
 *   state, its output and the job's finish number, only if the job is not yet terminal, (2)
 *   advances the session's finish counter from n-1 to n, and (3) records that number n belongs
 *   to this job. All or nothing: a processor that crashes and gets the event again either finds
 *   the job already terminal (nothing to do) or starts over, so each terminal job gets exactly
 *   one number and no number is ever skipped. The terminal state and the output are one write:
 *   no reader sees a finished job without its output.
 * - `job.submit` was already written by the start call that claimed the job; `session.*` and
 *   `consumer.*` events are for observers. All three are acknowledged without a write.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { backoff } from "../aws/retry.ts";
import { config } from "../config.ts";
import { EVENT_TARGET_STATE, type FoqusEvent } from "../events/events.ts";
import { MAX_INLINE_OUTPUT_BYTES } from "../limits.ts";
import { outputKey, putOutput } from "../results/output-store.ts";
import { COUNTER_KEY, seqKey } from "../results/result-keys.ts";
import { isTerminal, type JobState, statesBefore } from "./states.ts";

export const ApplyOutcomes = {
  applied: "applied",
  /** Not a job state change (job.submit, session.*, consumer.*). */
  ignored: "ignored",
  /** Duplicate, late or for a job that is gone: changed nothing. */
  stale: "stale",
  /** A later event of the same job in the same batch was applied instead. */
  superseded: "superseded",
} as const;
export type ApplyOutcome = (typeof ApplyOutcomes)[keyof typeof ApplyOutcomes];

const STAMP_FIELD: Partial<Record<JobState, string>> = { setup: "Setup", running: "Running" };
const MAX_COUNTER_ATTEMPTS = 25;

function stateCondition(to: JobState): { expression: string; values: Record<string, string> } {
  const from = statesBefore(to);
  const values: Record<string, string> = {};
  from.forEach((state, i) => {
    values[`:from${i}`] = state;
  });
  return { expression: `#state IN (${Object.keys(values).join(", ")})`, values };
}

export async function applyEvent(event: FoqusEvent): Promise<ApplyOutcome> {
  const to = EVENT_TARGET_STATE[event.event];
  if (!to || to === "submit" || !event.job) return ApplyOutcomes.ignored;
  return isTerminal(to) ? applyTerminal(event, to) : applyProgress(event, to);
}

async function applyProgress(event: FoqusEvent, to: JobState): Promise<ApplyOutcome> {
  const condition = stateCondition(to);
  const stamp = STAMP_FIELD[to] ?? "Updated";
  const earlier = earlierStamps(event);
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.jobsTable,
        Key: { SessionId: event.session, JobId: event.job },
        UpdateExpression: [
          "SET #state = :to, #stamp = :time",
          ...(event.consumer ? ["ConsumerId = :consumer"] : []),
          ...earlier.sets,
        ].join(", "),
        ConditionExpression: condition.expression,
        ExpressionAttributeNames: { "#state": "State", "#stamp": stamp },
        ExpressionAttributeValues: {
          ...condition.values,
          ":to": to,
          ":time": event.time,
          ...(event.consumer ? { ":consumer": event.consumer } : {}),
          ...earlier.values,
        },
      }),
    );
    return ApplyOutcomes.applied;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return ApplyOutcomes.stale;
    throw error;
  }
}

/**
 * Setup and Running times that a later event repeats, written only where still missing: the
 * processor may apply a job's last event without the earlier ones (they came in the same batch,
 * or late) and the record still has every timestamp.
 */
function earlierStamps(event: FoqusEvent): { sets: string[]; values: Record<string, string> } {
  const sets: string[] = [];
  const values: Record<string, string> = {};
  if (event.setupTime) {
    sets.push("Setup = if_not_exists(Setup, :setupTime)");
    values[":setupTime"] = event.setupTime;
  }
  if (event.runningTime && event.event !== "job.running") {
    sets.push("Running = if_not_exists(Running, :runningTime)");
    values[":runningTime"] = event.runningTime;
  }
  return { sets, values };
}

/**
 * The last finish number this process wrote or read, per session. A stale value costs one failed
 * transaction and a fresh read; a current one saves a read per terminal event.
 */
const knownCounters = new Map<string, number>();
const MAX_KNOWN_COUNTERS = 1000;

function rememberCounter(sessionId: string, value: number): void {
  knownCounters.delete(sessionId);
  knownCounters.set(sessionId, value);
  if (knownCounters.size > MAX_KNOWN_COUNTERS)
    knownCounters.delete(knownCounters.keys().next().value as string);
}

async function readCounter(sessionId: string): Promise<number> {
  const { Item } = await documentDbClient().send(
    new GetCommand({
      TableName: config.resultsTable,
      Key: { SessionId: sessionId, Key: COUNTER_KEY },
      ConsistentRead: true,
    }),
  );
  return (Item?.Last as number | undefined) ?? 0;
}

/** Output fields for the job item: inline JSON, or a key in the results bucket. */
async function outputFields(event: FoqusEvent): Promise<Record<string, string>> {
  if (event.outputKey) return { OutputKey: event.outputKey };
  if (event.outputJson === undefined) return {};
  if (Buffer.byteLength(event.outputJson) <= MAX_INLINE_OUTPUT_BYTES) return { OutputJson: event.outputJson };
  const key = outputKey(event.username, event.session, event.job ?? "unknown");
  await putOutput(key, event.outputJson);
  return { OutputKey: key };
}

async function applyTerminal(event: FoqusEvent, to: JobState): Promise<ApplyOutcome> {
  const condition = stateCondition(to);
  const fields: Record<string, unknown> = {
    ...(await outputFields(event)),
    ...(event.message !== undefined ? { Message: event.message } : {}),
    ...(event.errorClass ? { ErrorClass: event.errorClass } : {}),
    ...(event.consumer ? { ConsumerId: event.consumer } : {}),
  };
  const earlier = earlierStamps(event);
  const names: Record<string, string> = { "#state": "State" };
  const values: Record<string, unknown> = {
    ...condition.values,
    ":to": to,
    ":time": event.time,
    ...earlier.values,
  };
  const sets = ["#state = :to", "Finished = :time", "Seq = :seq", ...earlier.sets];
  Object.entries(fields).forEach(([field, value], i) => {
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  });

  let known = knownCounters.get(event.session);
  for (let attempt = 0; attempt < MAX_COUNTER_ATTEMPTS; attempt++) {
    if (attempt > 1) await backoff(attempt);
    const previous = known ?? (await readCounter(event.session));
    known = undefined;
    const seq = previous + 1;
    try {
      await documentDbClient().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: config.jobsTable,
                Key: { SessionId: event.session, JobId: event.job },
                UpdateExpression: `SET ${sets.join(", ")}`,
                ConditionExpression: condition.expression,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: { ...values, ":seq": seq },
              },
            },
            {
              Update: {
                TableName: config.resultsTable,
                Key: { SessionId: event.session, Key: COUNTER_KEY },
                UpdateExpression: "SET #last = :seq",
                ConditionExpression: previous === 0 ? "attribute_not_exists(#last)" : "#last = :previous",
                ExpressionAttributeNames: { "#last": "Last" },
                ExpressionAttributeValues: {
                  ":seq": seq,
                  ...(previous === 0 ? {} : { ":previous": previous }),
                },
              },
            },
            {
              Put: {
                TableName: config.resultsTable,
                Item: { SessionId: event.session, Key: seqKey(seq), JobId: event.job },
                ConditionExpression: "attribute_not_exists(#key)",
                ExpressionAttributeNames: { "#key": "Key" },
              },
            },
          ],
        }),
      );
      rememberCounter(event.session, seq);
      return ApplyOutcomes.applied;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [jobReason] = error.CancellationReasons ?? [];
      // The job was already terminal (or is gone): a duplicate or late event.
      if (jobReason?.Code === "ConditionalCheckFailed") return ApplyOutcomes.stale;
      // Otherwise another terminal event of this session took number n first: read again.
    }
  }
  throw new Error(
    `Could not number terminal job ${event.job} of session ${event.session}: counter contended`,
  );
}
