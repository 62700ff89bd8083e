/**
 * @module update-processor
 * The single writer of job state after submit. Triggered by the update queue (every event) and
 * by each pool's job dead-letter queue (jobs whose workers kept dying), with SQS partial batch
 * responses: a record that fails is retried alone, and after the queue's maxReceiveCount it
 * moves to the update DLQ, whose alarm tells an operator.
 *
 * After a job ends (applied, or a redelivery of an end already applied): a free user's session
 * gets its archive request (core/tiers/schedule-archive.ts), and after the session's last job
 * ended in the batch, whether the whole session finished is decided and told
 * (core/sessions/session-finished.ts). Both run inside the record, so a failure retries them.
 *
 * Any order is safe, because every write is conditional on state (core/jobs/apply-event.ts).
 * The batch's terminal events are applied first and together: those of one session in one
 * transaction with one advance of its finish counter, which they would otherwise contend for.
 * Then records are handled one at a time (progress and heartbeats written, what follows an end);
 * a job's events that a later one in the same batch supersedes are acknowledged without a write
 * of their own.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { EVENT_TARGET_STATE, EventTypes, type FoqusEvent } from "../core/events/events.ts";
import { parseEvent } from "../core/events/parse-event.ts";
import {
  type ApplyOutcome,
  ApplyOutcomes,
  type ApplyResult,
  applyEventDetailed,
  applyTerminalEvents,
  type BatchApplyResult,
} from "../core/jobs/apply-event.ts";
import { countAppliedEvent, emptyJobMetrics, type JobMetrics } from "../core/jobs/job-metrics.ts";
import { getJob } from "../core/jobs/job-store.ts";
import { isTerminal } from "../core/jobs/states.ts";
import { supersededEvents } from "../core/jobs/supersede.ts";
import { eventFromQueue, RELEASES_ATTRIBUTE } from "../core/jobs/worker-lost.ts";
import { metrics, publishWithDimension } from "../core/metrics.ts";
import { logger } from "../core/observability.ts";
import { notifyIfSessionFinished } from "../core/sessions/session-finished.ts";
import { scheduleArchive } from "../core/tiers/schedule-archive.ts";

/** The event a record carries, as the processor applies it. Throws for a malformed body. */
function eventOf(record: SQSRecord): FoqusEvent {
  return eventFromQueue(parseEvent(record.body), {
    queueArn: record.eventSourceARN,
    receiveCount: record.attributes.ApproximateReceiveCount,
    releases: record.messageAttributes?.[RELEASES_ATTRIBUTE]?.stringValue,
  });
}

function tryEventOf(record: SQSRecord): FoqusEvent | undefined {
  try {
    return eventOf(record);
  } catch {
    return undefined; // the record handler throws for it, so the record is retried, then dead-lettered
  }
}

/** The message id of each session's last terminal event in the batch. */
function lastEndings(events: (FoqusEvent | undefined)[], records: SQSRecord[]): Set<string> {
  const last = new Map<string, string>();
  events.forEach((event, i) => {
    const to = event && EVENT_TARGET_STATE[event.event];
    if (event?.job && to && isTerminal(to)) last.set(event.session, records[i]?.messageId ?? "");
  });
  return new Set(last.values());
}

/**
 * The batch's terminal events (those no later event supersedes), applied together before the
 * records are handled: one transaction per session (core/jobs/apply-event.ts
 * applyTerminalEvents). By message id; a record whose transaction failed carries its error,
 * which its record handler throws, so that only that record is retried.
 */
async function applyEndings(
  events: (FoqusEvent | undefined)[],
  records: SQSRecord[],
  superseded: Set<number>,
): Promise<Map<string, BatchApplyResult>> {
  const chosen: { messageId: string; event: FoqusEvent }[] = [];
  events.forEach((event, i) => {
    const to = event && EVENT_TARGET_STATE[event.event];
    if (!event?.job || !to || !isTerminal(to) || superseded.has(i)) return;
    chosen.push({ messageId: records[i]?.messageId ?? "", event });
  });
  const results = await applyTerminalEvents(chosen.map(({ event }) => event));
  return new Map(chosen.map(({ messageId }, i) => [messageId, results[i]!]));
}

/** What follows a job's end: its session's archive request, and whether the session finished. */
async function afterJobEnded(event: FoqusEvent, result: ApplyResult, lastOfSession: boolean): Promise<void> {
  const ended: ApplyOutcome[] = [ApplyOutcomes.applied, ApplyOutcomes.stale];
  if (!result.terminal || !ended.includes(result.outcome)) return;
  // A redelivered end: the job's own number (it is gone when the job was deleted).
  const seq = result.seq ?? (await getJob(event.session, event.job ?? ""))?.Seq;
  if (seq === undefined) return;
  await scheduleArchive(event.username, event.session, seq);
  if (lastOfSession) await notifyIfSessionFinished(event.username, event.session, seq);
}

/** The dashboard's job metrics of one invocation (core/jobs/job-metrics.ts). */
function publishJobMetrics(jobs: JobMetrics): void {
  for (const [state, count] of Object.entries(jobs.entered)) {
    publishWithDimension("State", state, (m) => m.addMetric("JobsEnteredState", MetricUnit.Count, count));
  }
  for (const [phase, values] of Object.entries(jobs.durations)) {
    publishWithDimension("Phase", phase, (m) => {
      for (const value of values) m.addMetric("JobDuration", MetricUnit.Seconds, value);
    });
  }
  if (jobs.workerLost > 0) metrics.addMetric("WorkerLostJobs", MetricUnit.Count, jobs.workerLost);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const events = event.Records.map(tryEventOf);
  const superseded = supersededEvents(events);
  const skipped = new Set(
    event.Records.filter((_, i) => superseded.has(i)).map((record) => record.messageId),
  );
  const lastOfSession = lastEndings(events, event.Records);
  const ended = await applyEndings(events, event.Records, superseded);
  const jobMetrics = emptyJobMetrics();
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const applied = eventOf(record);
    const together = ended.get(record.messageId);
    if (together && "error" in together) throw together.error;
    const result: ApplyResult = skipped.has(record.messageId)
      ? { outcome: ApplyOutcomes.superseded, terminal: false }
      : (together?.result ?? (await applyEventDetailed(applied)));
    const { outcome } = result;
    if (outcome === ApplyOutcomes.applied || applied.event === EventTypes.jobSubmit)
      countAppliedEvent(jobMetrics, applied);
    await afterJobEnded(applied, result, lastOfSession.has(record.messageId));
    logger.debug("event processed", {
      event: applied.event,
      session: applied.session,
      job: applied.job,
      outcome,
      ...(applied.trace ? { trace: applied.trace } : {}),
    });
    if (outcome === ApplyOutcomes.rejected) {
      logger.warn("event rejected: it names another owner or an output outside the job's prefix", {
        event: applied.event,
        session: applied.session,
        job: applied.job,
        username: applied.username,
        outputKey: applied.outputKey,
      });
    }
    metrics.addMetric(`event-${outcome}`, MetricUnit.Count, 1);
  };
  try {
    // One processor per invocation: the local runtime may run invocations side by side.
    return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      processInParallel: false,
    });
  } finally {
    publishJobMetrics(jobMetrics);
    metrics.publishStoredMetrics();
  }
}
