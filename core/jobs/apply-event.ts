/**
 * @module jobs/apply-event
 * Applies one event to the store: the update processor's whole job. It decides what an event
 * means and leaves every write to jobs/job-store.ts, whose conditions make a duplicate, late or
 * reordered event change nothing:
 *
 * - `job.setup`, `job.running`: advanceJob, stamping the state's timestamp, the consumer and the
 *   attempt's lease (`leaseUntil` → LeaseUntil, as of the event's time → LeaseAt). When that is
 *   stale because an earlier attempt already moved the job there, holdLease lets this attempt
 *   take the record over if the earlier attempt's lease had ended by this event's time (it died
 *   and the job was delivered again).
 * - `job.heartbeat`: holdLease, the same attempt's lease renewed, or ended (`leaseUntil` equal to
 *   its time: the worker released the job), or an ended one taken over; never a state change, so
 *   it can neither finish a job nor take a number.
 * - `job.success`, `job.error`, `job.terminate`: finishJob with the next finish number of the
 *   session, the output (large ones moved to S3 first) and the message. A "contended" answer
 *   means another job of the session took that number: read the counter again and retry. A
 *   processor that crashes and gets the event again either finds the job already terminal
 *   ("stale", nothing to do) or starts over, so each terminal job gets exactly one number and no
 *   number is ever skipped.
 * - `job.submit` was already written by the start call that claimed the job; `session.*` and
 *   `consumer.*` events are for observers. All three are acknowledged without a write.
 */
import { backoff } from "../aws/retry.ts";
import { mapLimit } from "../concurrency.ts";
import { ErrorClasses, EVENT_TARGET_STATE, EventTypes, type FoqusEvent } from "../events/events.ts";
import { MAX_INLINE_OUTPUT_BYTES } from "../limits.ts";
import { isOwnOutputKey, outputKey, putOutput } from "../results/output-store.ts";
import { readFinishCounter } from "../results/result-store.ts";
import {
  advanceJob,
  type FinishEntry,
  type FinishOutcome,
  finishJob,
  finishJobs,
  holdLease,
  type JobFields,
  MAX_FINISH_BATCH,
  type MissingFields,
  type OwnedJobKey,
} from "./job-store.ts";
import { isTerminal, type JobState } from "./states.ts";

export const ApplyOutcomes = {
  applied: "applied",
  /** Not a job state change (job.submit, session.*, consumer.*). */
  ignored: "ignored",
  /** Duplicate, late or for a job that is gone: changed nothing. */
  stale: "stale",
  /** A later event of the same job in the same batch was applied instead. */
  superseded: "superseded",
  /**
   * Refused: the event names another user as the job's owner, or an output object outside the
   * job's own prefix. Code on a worker (FOQUS flowsheets run user code) can publish events; none
   * may point one user's job at another's data. Logged and counted by the processor.
   */
  rejected: "rejected",
} as const;
export type ApplyOutcome = (typeof ApplyOutcomes)[keyof typeof ApplyOutcomes];

const STAMP_FIELD: Partial<Record<JobState, string>> = { setup: "Setup", running: "Running" };
const MAX_COUNTER_ATTEMPTS = 25;

export async function applyEvent(event: FoqusEvent): Promise<ApplyOutcome> {
  return (await applyEventDetailed(event)).outcome;
}

/** What applying an event did, with the finish number a terminal event took when it applied. */
export interface ApplyResult {
  outcome: ApplyOutcome;
  /** The event ends a job (applied, or stale because it already had). */
  terminal: boolean;
  seq?: number;
}

export async function applyEventDetailed(event: FoqusEvent): Promise<ApplyResult> {
  if (event.event === EventTypes.jobHeartbeat)
    return { outcome: await applyHeartbeat(event), terminal: false };
  const to = EVENT_TARGET_STATE[event.event];
  if (!to || to === "submit" || !event.job) return { outcome: ApplyOutcomes.ignored, terminal: false };
  if (!isTerminal(to)) return { outcome: await applyProgress(event, to), terminal: false };
  const numbered: { seq?: number } = {};
  const outcome = await applyTerminal(event, to, numbered);
  return { outcome, terminal: true, ...numbered };
}

async function applyProgress(event: FoqusEvent, to: JobState): Promise<ApplyOutcome> {
  const stamp = STAMP_FIELD[to] ?? "Updated";
  const lease = leaseOf(event);
  const fields: JobFields = {
    [stamp]: event.time,
    ...(event.consumer ? { ConsumerId: event.consumer } : {}),
    ...(lease ? { LeaseUntil: lease.until, LeaseAt: lease.at } : {}),
  };
  const outcome = await advanceJob(keyOf(event), to, fields, earlierStamps(event, fields));
  if (outcome !== "stale" || !lease || !event.consumer) return outcomeOf[outcome];
  // Already there: another attempt moved the job first. If that attempt's lease had ended, this
  // one (a delivery after its death) takes the record over, so duplicates see it live.
  return outcomeOf[await holdLease(keyOf(event), event.consumer, lease.until, lease.at)];
}

async function applyHeartbeat(event: FoqusEvent): Promise<ApplyOutcome> {
  const lease = leaseOf(event);
  if (!event.job || !event.consumer || !lease) return ApplyOutcomes.stale;
  return outcomeOf[await holdLease(keyOf(event), event.consumer, lease.until, lease.at)];
}

/** SQS's longest visibility timeout: no attempt can hold a message longer. */
const MAX_LEASE_MS = 12 * 60 * 60 * 1000;

/**
 * The event's lease end and its time, both as toISOString writes them (the store compares them
 * as strings). None when it carries no lease, or one that is not a time within SQS's longest
 * visibility after the event: a worker cannot hold a message longer, so such a lease is ignored.
 */
function leaseOf(event: FoqusEvent): { until: string; at: string } | undefined {
  const until = Date.parse(event.leaseUntil ?? "");
  const at = Date.parse(event.time);
  if (!Number.isFinite(until) || !Number.isFinite(at) || until - at > MAX_LEASE_MS) return undefined;
  return { until: new Date(until).toISOString(), at: new Date(at).toISOString() };
}

function keyOf(event: FoqusEvent): OwnedJobKey {
  return { sessionId: event.session, jobId: event.job ?? "", username: event.username };
}

const outcomeOf = {
  applied: ApplyOutcomes.applied,
  stale: ApplyOutcomes.stale,
  foreign: ApplyOutcomes.rejected,
};

/**
 * Setup and Running times that a later event repeats, written only where still missing: the
 * processor may apply a job's last event without the earlier ones (they came in the same batch,
 * or late) and the record still has every timestamp.
 */
function earlierStamps(event: FoqusEvent, fields: JobFields): MissingFields {
  const missing: MissingFields = {};
  if (event.setupTime && !("Setup" in fields)) missing.Setup = event.setupTime;
  if (event.runningTime && !("Running" in fields)) missing.Running = event.runningTime;
  return missing;
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

/** Output fields for the job item: inline JSON, or a key in the results bucket. */
async function outputFields(event: FoqusEvent): Promise<Record<string, string>> {
  if (event.outputKey) return { OutputKey: event.outputKey };
  if (event.outputJson === undefined) return {};
  if (Buffer.byteLength(event.outputJson) <= MAX_INLINE_OUTPUT_BYTES) return { OutputJson: event.outputJson };
  const key = outputKey(event.username, event.session, event.job ?? "unknown");
  await putOutput(key, event.outputJson);
  return { OutputKey: key };
}

/** What a terminal event sets on its job: the time, the output (large ones moved to S3), the message. */
async function terminalFields(event: FoqusEvent): Promise<JobFields> {
  return {
    Finished: event.time,
    ...(await outputFields(event)),
    ...(event.message !== undefined ? { Message: event.message } : {}),
    ...(event.errorClass ? { ErrorClass: event.errorClass } : {}),
    ...(event.consumer ? { ConsumerId: event.consumer } : {}),
  };
}

/** An output object outside the job's own prefix: code on a worker pointing at other data. */
const foreignOutput = (event: FoqusEvent): boolean =>
  event.outputKey !== undefined &&
  !isOwnOutputKey(event.outputKey, event.username, event.session, event.job ?? "");

async function applyTerminal(
  event: FoqusEvent,
  to: JobState,
  numbered: { seq?: number },
): Promise<ApplyOutcome> {
  if (foreignOutput(event)) return ApplyOutcomes.rejected;
  const fields = await terminalFields(event);
  const missing = earlierStamps(event, fields);
  try {
    return await numberAndFinish(event, to, fields, missing, numbered);
  } catch (error) {
    if ((error as Error).name !== "ValidationException") throw error;
    // DynamoDB refused the item itself (over 400 KB): retrying as contention would never end.
    // The output moves to S3 and the message is cut; if even that does not fit, the job fails
    // with a message that says why.
    const slim = await withoutBulk(event, fields);
    try {
      return await numberAndFinish(event, to, slim, missing, numbered);
    } catch (retryError) {
      if ((retryError as Error).name !== "ValidationException") throw retryError;
      return numberAndFinish(event, "error", oversizedFailure(event), missing, numbered);
    }
  }
}

/** The largest Message kept in a job item; longer ones are cut, keeping their start and end. */
const MAX_MESSAGE_CHARS = 8000;

function cut(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message;
  const half = MAX_MESSAGE_CHARS / 2;
  return `${message.slice(0, half)} […] ${message.slice(-half)}`;
}

async function withoutBulk(event: FoqusEvent, fields: JobFields): Promise<JobFields> {
  const slim: JobFields = { ...fields };
  if (typeof slim.OutputJson === "string") {
    const key = outputKey(event.username, event.session, event.job ?? "unknown");
    await putOutput(key, slim.OutputJson);
    delete slim.OutputJson;
    slim.OutputKey = key;
  }
  if (typeof slim.Message === "string") slim.Message = cut(slim.Message);
  return slim;
}

function oversizedFailure(event: FoqusEvent): JobFields {
  return {
    Finished: event.time,
    Message:
      "The job's record would exceed DynamoDB's 400 KB item limit even with its output in S3; make its Input smaller (stage large data as a simulation input file) and append it again.",
    ErrorClass: ErrorClasses.invalidInput,
    ...(event.consumer ? { ConsumerId: event.consumer } : {}),
  };
}

/** finishJob with the session's next finish number, reading the counter again on contention. */
async function numberAndFinish(
  event: FoqusEvent,
  to: JobState,
  fields: JobFields,
  missing: MissingFields,
  numbered: { seq?: number },
): Promise<ApplyOutcome> {
  let known = knownCounters.get(event.session);
  for (let attempt = 0; attempt < MAX_COUNTER_ATTEMPTS; attempt++) {
    if (attempt > 1) await backoff(attempt);
    const seq = (known ?? (await readFinishCounter(event.session))) + 1;
    known = undefined;
    const outcome = await finishJob(keyOf(event), to, seq, fields, missing);
    if (outcome === "applied") {
      rememberCounter(event.session, seq);
      numbered.seq = seq;
    }
    // "stale": the job was already terminal (or is gone), a duplicate or late event.
    if (outcome !== "contended") return outcomeOf[outcome];
    // "contended": another terminal event of this session took number seq first; read again.
  }
  throw new Error(
    `Could not number terminal job ${event.job} of session ${event.session}: counter contended`,
  );
}

/** One event's part of applyTerminalEvents: what applying it gave, or the error to retry it for. */
export type BatchApplyResult = { result: ApplyResult } | { error: unknown };

interface Pending {
  index: number;
  event: FoqusEvent;
  entry: FinishEntry;
}

/**
 * Applies terminal events together, with the guarantees of one at a time: the events of one
 * session go in one finishJobs transaction per MAX_FINISH_BATCH, numbered by one counter advance,
 * and the counter is read only when this process does not know it or another writer moved it.
 * An entry refused by its own condition (already terminal, another owner's) leaves the rest to
 * be written without it; one DynamoDB refuses outright (over 400 KB) is applied alone, where it
 * is slimmed (applyEventDetailed). Takes terminal job events, at most one per job (the processor
 * leaves out what jobs/supersede.ts finds superseded). A failure fails only the events of its
 * own transaction; their results say so, and the others stand.
 */
export async function applyTerminalEvents(events: FoqusEvent[]): Promise<BatchApplyResult[]> {
  const results: BatchApplyResult[] = new Array(events.length);
  const bySession = new Map<string, number[]>();
  events.forEach((event, index) => {
    bySession.set(event.session, [...(bySession.get(event.session) ?? []), index]);
  });
  await mapLimit([...bySession.entries()], SESSIONS_IN_PARALLEL, async ([sessionId, indexes]) => {
    const pending: Pending[] = [];
    for (const index of indexes) {
      const event = events[index]!;
      if (foreignOutput(event)) {
        results[index] = { result: { outcome: ApplyOutcomes.rejected, terminal: true } };
        continue;
      }
      try {
        const fields = await terminalFields(event);
        const to = EVENT_TARGET_STATE[event.event]!;
        pending.push({
          index,
          event,
          entry: { key: keyOf(event), to, fields, missing: earlierStamps(event, fields) },
        });
      } catch (error) {
        results[index] = { error };
      }
    }
    for (let first = 0; first < pending.length; first += MAX_FINISH_BATCH) {
      const chunk = pending.slice(first, first + MAX_FINISH_BATCH);
      try {
        await finishTogether(sessionId, chunk, results);
      } catch (error) {
        for (const { index } of chunk) results[index] ??= { error };
      }
    }
  });
  return results;
}

const SESSIONS_IN_PARALLEL = 4;

async function finishTogether(
  sessionId: string,
  chunk: Pending[],
  results: BatchApplyResult[],
): Promise<void> {
  let pending = chunk;
  const alone: Pending[] = [];
  let known = knownCounters.get(sessionId);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_COUNTER_ATTEMPTS)
      throw new Error(
        `Could not number ${pending.length} terminal jobs of session ${sessionId}: counter contended`,
      );
    if (attempt > 1) await backoff(attempt);
    const counter = known ?? (await readFinishCounter(sessionId));
    known = undefined;
    let outcome: FinishOutcome;
    try {
      outcome = await finishJobs(
        sessionId,
        counter + 1,
        pending.map(({ entry }) => entry),
      );
    } catch (error) {
      // DynamoDB refused the whole request for an item's size without naming it: each alone.
      if ((error as Error).name !== "ValidationException") throw error;
      alone.push(...pending);
      break;
    }
    if (outcome.kind === "applied") {
      pending.forEach(({ index }, k) => {
        results[index] = { result: { outcome: ApplyOutcomes.applied, terminal: true, seq: counter + 1 + k } };
      });
      rememberCounter(sessionId, counter + pending.length);
      break;
    }
    if (outcome.kind === "refused") {
      const { refused } = outcome;
      pending.forEach((item, k) => {
        const why = refused.get(k);
        if (why === "invalid") alone.push(item);
        else if (why) results[item.index] = { result: { outcome: outcomeOf[why], terminal: true } };
      });
      pending = pending.filter((_, k) => !refused.has(k));
      known = counter; // the counter was not what failed: the rest try the same numbers
    }
    // "contended": another writer moved the counter; read it again.
  }
  for (const item of alone) results[item.index] = { result: await applyEventDetailed(item.event) };
}
