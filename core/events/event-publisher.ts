/**
 * @module events/event-publisher
 * Publishes events to the update topic with SNS PublishBatch: 10 entries a call and 256 KB a
 * call in total (SNS limits). Failed entries are retried; anything still failing throws, naming
 * how many, so the caller can answer 5xx and the client retries. SNS is loaded with the first
 * publish (aws/sns-client.ts): most requests of the functions that can publish never do.
 */
import { randomUUID } from "node:crypto";
import type { PublishBatchRequestEntry } from "@aws-sdk/client-sns";
import { snsModule } from "../aws/client-modules.ts";
import { backoff } from "../aws/retry.ts";
import { config } from "../config.ts";
import { currentTraceHeader } from "../tracing/trace-header.ts";
import { eventAttributes, type FoqusEvent } from "./events.ts";

const ENTRIES_PER_BATCH = 10;
const BYTES_PER_BATCH = 256 * 1024;
const MAX_ROUNDS = 5;

function toEntry(event: FoqusEvent): PublishBatchRequestEntry {
  return {
    Id: randomUUID(),
    Message: JSON.stringify(event),
    MessageAttributes: eventAttributes(event),
  };
}

function entrySize(entry: PublishBatchRequestEntry): number {
  let size = Buffer.byteLength(entry.Message ?? "");
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.StringValue ?? "") +
      Buffer.byteLength(value.DataType ?? "");
  }
  return size;
}

/** Splits entries into batches within both SNS limits. */
export function toBatches(entries: PublishBatchRequestEntry[]): PublishBatchRequestEntry[][] {
  const batches: PublishBatchRequestEntry[][] = [];
  let current: PublishBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length === ENTRIES_PER_BATCH || (current.length > 0 && bytes + size > BYTES_PER_BATCH)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Some events were not published; `unpublished` lists them (the others were). */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly unpublished: FoqusEvent[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PublishError";
  }
}

export async function publishEvents(
  events: FoqusEvent[],
  topicArn: string = config.updateTopicArn,
): Promise<void> {
  const entries = events.map(toEntry);
  if (entries.length === 0) return;
  const { PublishBatchCommand, snsClient } = await snsModule();
  const eventOf = new Map(entries.map((entry, i) => [entry.Id, events[i] as FoqusEvent]));
  const published = new Set<string>();
  const unpublished = () =>
    entries.filter((entry) => !published.has(entry.Id ?? "")).map((entry) => eventOf.get(entry.Id)!);
  for (const batch of toBatches(entries)) {
    let pending = batch;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) {
        throw new PublishError(
          `SNS refused ${pending.length} of ${batch.length} events after ${round} attempts`,
          unpublished(),
        );
      }
      if (round > 0) await backoff(round);
      let failed: Set<string | undefined>;
      try {
        const result = await snsClient().send(
          new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: pending }),
        );
        failed = new Set((result.Failed ?? []).map((failure) => failure.Id));
      } catch (error) {
        throw new PublishError(`Publishing events failed: ${(error as Error).message}`, unpublished(), {
          cause: error,
        });
      }
      for (const entry of pending) if (!failed.has(entry.Id)) published.add(entry.Id ?? "");
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
  }
}

/** A new event with a fresh id, the current time and, in Lambda, the invocation's trace header. */
export function newEvent(fields: Omit<FoqusEvent, "id" | "time"> & { time?: string }): FoqusEvent {
  const trace = currentTraceHeader();
  return {
    id: randomUUID(),
    time: fields.time ?? new Date().toISOString(),
    ...(trace ? { trace } : {}),
    ...fields,
  };
}
