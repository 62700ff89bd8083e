/**
 * @module jobs/submit-outbox
 * No job is ever left submitted without its message. `start` only claims jobs (conditional
 * writes create/pause → submit, in transactions of up to 100: jobs/claim-jobs.ts, whether the API
 * call or a backend page of a large start claims them); each claim is the outbox entry.
 * The jobs table's stream delivers every change of an item at least once, in order per item,
 * and a publisher (handlers/submit-publisher.ts, fed by the stream) turns each change into
 * `submit` into a `job.submit` event on the update topic, from which the pools' queues take it.
 *
 * Why a stream and not the alternatives:
 * - Publishing from `start` after the claims (what this replaced) loses the jobs of a start that
 *   dies, is throttled or times out between its claims and its publish: nothing sends them again.
 * - A sweep that finds jobs long in `submit` costs a query per session per sweep and adds its
 *   period to the latency of every stranded job; a transaction cannot span DynamoDB and SNS.
 * - The stream is written by DynamoDB in the same write as the claim: a claim that happened is
 *   published, whatever happens to the caller afterwards. Records live 24 h and the publisher
 *   retries until they go out; a record published twice gives a duplicate `job.submit`, which
 *   workers tolerate (they run a job only while its record says it may run).
 *
 * On AWS an event source mapping feeds the publisher; locally local/runtime/stream-trigger.ts
 * polls the stream the way it polls SQS.
 */
import type { DynamoDBRecord } from "aws-lambda";
import { EventTypes, type FoqusEvent } from "../events/events.ts";
import { currentTraceHeader } from "../tracing/trace-header.ts";
import { JobStates } from "./states.ts";

/** A stream record's image attribute as a string (images arrive in DynamoDB JSON). */
const text = (image: Record<string, { S?: string }> | undefined, name: string): string | undefined =>
  image?.[name]?.S;

/**
 * The `job.submit` events that stream records stand for: one per change of a job into `submit`,
 * with the stream record's own id, so a redelivered record is the same event.
 */
export function submitEventsOf(records: DynamoDBRecord[]): { event: FoqusEvent; record: DynamoDBRecord }[] {
  const out: { event: FoqusEvent; record: DynamoDBRecord }[] = [];
  for (const record of records) {
    const image = record.dynamodb?.NewImage as Record<string, { S?: string }> | undefined;
    const old = record.dynamodb?.OldImage as Record<string, { S?: string }> | undefined;
    if (text(image, "State") !== JobStates.submit) continue;
    if (text(old, "State") === JobStates.submit) continue; // not a change into submit
    // The start call's trace (written with the claim), else this invocation's.
    const trace = text(image, "TraceHeader") ?? currentTraceHeader();
    const session = text(image, "SessionId");
    const job = text(image, "JobId");
    const username = text(image, "Username");
    if (!session || !job || !username) continue;
    out.push({
      record,
      event: {
        id: `submit:${record.eventID ?? `${session}/${job}/${record.dynamodb?.SequenceNumber}`}`,
        event: EventTypes.jobSubmit,
        time: text(image, "Submit") ?? new Date().toISOString(),
        username,
        session,
        job,
        ...(text(image, "Application") ? { application: text(image, "Application") } : {}),
        ...(trace ? { trace } : {}),
      },
    });
  }
  return out;
}
