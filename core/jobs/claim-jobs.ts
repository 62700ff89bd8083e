/**
 * @module jobs/claim-jobs
 * Start's and stop's writes of job state, in batches: TransactWriteItems of up to 100 items,
 * each a conditional update of one job (create/pause → submit, stamping Submit; submit → pause),
 * where job-store.ts moveJob spends one UpdateItem per job. Besides the jobs, a transaction holds:
 *
 * - for claims out of `create`, the session's claimed count (results/result-store.ts
 *   claimedAddItem), ADDed by the claims of that very transaction: it counts exactly what
 *   committed, whoever claims (the API call or a backend page), and a retry adds nothing twice;
 * - optionally a guard: a ConditionCheck on the session record (the session still open, the
 *   fan-out that runs the page still the current one). The claims commit only while it holds, so
 *   a kill, or a stop that replaces a start's fan-out, stops the claims at once: none commits
 *   after the session record changed.
 *
 * A transaction is all or nothing. When DynamoDB cancels one, CancellationReasons say why, item
 * by item (the race each answer covers):
 * - a job's ConditionalCheckFailed: the job is no longer in `from` (another start claimed it, a
 *   stop paused it, a kill ended it, it was deleted). That is the whole answer, as moveJob's
 *   `false` is: the job is left out without a request of its own, and the rest go again in a new
 *   transaction;
 * - the guard's ConditionalCheckFailed: the session no longer allows it; nothing more is moved;
 * - TransactionConflict (another write of one of its items at that moment) or throttling: the
 *   same items go again after a backoff.
 * Only when the reasons do not say which items failed, or a batch keeps being cancelled, do its
 * jobs fall back to transactions of one job each (with the same count and guard).
 *
 * Every committed update is one record on the jobs table's stream, as a single UpdateItem is, so
 * the submit outbox (submit-outbox.ts) publishes a batched claim exactly like a single one; a
 * claim also records the claiming invocation's trace header (TraceHeader), which it passes on.
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/dynamodb-client.ts";
import { backoff } from "../aws/retry.ts";
import { config } from "../config.ts";
import { isErrorOf } from "../errors.ts";
import { claimedAddItem } from "../results/result-store.ts";
import { currentTraceHeader } from "../tracing/trace-header.ts";
import { type JobState, JobStates } from "./states.ts";

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]
>[number];

const TRANSACTION_ITEMS = 100; // DynamoDB TransactWriteItems: 100 items per call
/** Cancelled rounds (conflicts, throttling) a batch gets before its jobs go one at a time. */
const MAX_CANCELLED_ROUNDS = 4;

/** A ConditionCheck on the session record that every transaction of a batch carries. */
export interface SessionGuard {
  username: string;
  sessionId: string;
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** What a batched move did: the jobs it moved, and whether the guard stopped it. */
export interface MoveResult {
  moved: string[];
  /** The guard failed: the session no longer allows the move; jobs after `moved` were not tried. */
  refused: boolean;
}

interface Move {
  sessionId: string;
  from: JobState;
  to: JobState;
  stamp?: { field: "Submit"; value: string };
  /** The claiming invocation's X-Ray trace header, which the submit outbox passes on to the worker. */
  trace?: string | undefined;
  /** Claims out of create: counted in the session's claimed count. */
  counted: boolean;
  guard?: SessionGuard | undefined;
}

function jobUpdate(move: Move, jobId: string): TransactItem {
  const sets = ["#state = :to"];
  if (move.stamp) sets.push("#stamp = :now");
  if (move.trace) sets.push("#trace = :trace");
  return {
    Update: {
      TableName: config.jobsTable,
      Key: { SessionId: move.sessionId, JobId: jobId },
      UpdateExpression: `SET ${sets.join(", ")}`,
      // stateIs(from), as moveJob: two starts, or a start and a stop, at once: one write wins.
      ConditionExpression: "#state = :from",
      ExpressionAttributeNames: {
        "#state": "State",
        ...(move.stamp ? { "#stamp": move.stamp.field } : {}),
        ...(move.trace ? { "#trace": "TraceHeader" } : {}),
      },
      ExpressionAttributeValues: {
        ":from": move.from,
        ":to": move.to,
        ...(move.stamp ? { ":now": move.stamp.value } : {}),
        ...(move.trace ? { ":trace": move.trace } : {}),
      },
    },
  };
}

function guardCheck(guard: SessionGuard): TransactItem {
  return {
    ConditionCheck: {
      TableName: config.sessionsTable,
      Key: { Username: guard.username, SessionId: guard.sessionId },
      ConditionExpression: guard.expression,
      ExpressionAttributeNames: guard.names,
      ...(Object.keys(guard.values).length > 0 ? { ExpressionAttributeValues: guard.values } : {}),
    },
  };
}

type Attempt =
  | { kind: "committed" }
  | { kind: "refused" }
  /** These jobs (indexes into the batch) failed their condition; the others may go again. */
  | { kind: "failed"; failed: Set<number> }
  | { kind: "retry" }
  | { kind: "unclear" };

async function attempt(move: Move, jobIds: string[]): Promise<Attempt> {
  const items: TransactItem[] = jobIds.map((jobId) => jobUpdate(move, jobId));
  if (move.counted) items.push(claimedAddItem(move.sessionId, jobIds.length));
  const guardIndex = move.guard ? items.push(guardCheck(move.guard)) - 1 : -1;
  try {
    await documentDbClient().send(new TransactWriteCommand({ TransactItems: items }));
    return { kind: "committed" };
  } catch (error) {
    if (!isErrorOf(error, TransactionCanceledException)) throw error;
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    if (reasons.length !== items.length) return { kind: "unclear" };
    if (guardIndex >= 0 && reasons[guardIndex]?.Code === "ConditionalCheckFailed") return { kind: "refused" };
    const failed = new Set<number>();
    reasons.forEach((reason, i) => {
      if (i < jobIds.length && reason.Code === "ConditionalCheckFailed") failed.add(i);
    });
    if (failed.size > 0) return { kind: "failed", failed };
    const invalid = reasons.find((reason) => reason.Code === "ValidationError");
    if (invalid) throw new Error(`DynamoDB refused a claim: ${invalid.Message ?? "ValidationError"}`);
    return { kind: "retry" }; // TransactionConflict, throttling: the same items again
  }
}

/** Moves `jobIds` (at most one transaction's worth) in as few transactions as it takes. */
async function moveBatch(move: Move, jobIds: string[]): Promise<MoveResult> {
  let pending = jobIds;
  for (let cancelled = 0; pending.length > 0; ) {
    const outcome = await attempt(move, pending);
    if (outcome.kind === "committed") return { moved: pending, refused: false };
    if (outcome.kind === "refused") return { moved: [], refused: true };
    if (outcome.kind === "failed") {
      pending = pending.filter((_, i) => !outcome.failed.has(i));
      continue;
    }
    cancelled++;
    if (outcome.kind === "unclear" || cancelled >= MAX_CANCELLED_ROUNDS) {
      if (pending.length === 1) {
        throw new Error(
          `DynamoDB kept cancelling the move of job ${pending[0]} to ${move.to} without saying why; retry`,
        );
      }
      return moveOneByOne(move, pending);
    }
    await backoff(cancelled);
  }
  return { moved: [], refused: false };
}

/** The fallback: each job in its own transaction (with the same count and guard). */
async function moveOneByOne(move: Move, jobIds: string[]): Promise<MoveResult> {
  const moved: string[] = [];
  for (const jobId of jobIds) {
    const one = await moveBatch(move, [jobId]);
    moved.push(...one.moved);
    if (one.refused) return { moved, refused: true };
  }
  return { moved, refused: false };
}

async function moveJobs(move: Move, jobIds: string[]): Promise<MoveResult> {
  const perTransaction = TRANSACTION_ITEMS - (move.counted ? 1 : 0) - (move.guard ? 1 : 0);
  const moved: string[] = [];
  for (let i = 0; i < jobIds.length; i += perTransaction) {
    const batch = await moveBatch(move, jobIds.slice(i, i + perTransaction));
    moved.push(...batch.moved);
    if (batch.refused) return { moved, refused: true };
  }
  return { moved, refused: false };
}

/**
 * Claims jobs of one session for start: `from` (create or pause) → submit, stamping Submit with
 * `submitTime`; claims out of create are counted in the session's claimed count in the same
 * transactions. Answers the jobs this call moved, in the order given.
 */
export async function claimJobs(
  sessionId: string,
  from: "create" | "pause",
  jobIds: string[],
  submitTime: string,
  guard?: SessionGuard,
): Promise<MoveResult> {
  return moveJobs(
    {
      sessionId,
      from,
      to: JobStates.submit,
      stamp: { field: "Submit", value: submitTime },
      trace: currentTraceHeader(),
      counted: from === JobStates.create,
      guard,
    },
    jobIds,
  );
}

/** Pauses submitted jobs of one session for stop (submit → pause). Answers the jobs it moved. */
export async function pauseJobs(
  sessionId: string,
  jobIds: string[],
  guard?: SessionGuard,
): Promise<MoveResult> {
  return moveJobs({ sessionId, from: JobStates.submit, to: JobStates.pause, counted: false, guard }, jobIds);
}
