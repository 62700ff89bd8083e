/**
 * @module events/event-publisher
 * Publishes events to the update topic with SNS PublishBatch: 10 entries a call and 256 KB a
 * call in total (SNS limits). Failed entries are retried; anything still failing throws, naming
 * how many, so the caller can answer 5xx and the client retries.
 */
import { randomUUID } from "node:crypto";
import { PublishBatchCommand, type PublishBatchRequestEntry } from "@aws-sdk/client-sns";
import { snsClient } from "../aws/clients.ts";
import { backoff } from "../aws/retry.ts";
import { config } from "../config.ts";
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

export async function publishEvents(
  events: FoqusEvent[],
  topicArn: string = config.updateTopicArn,
): Promise<void> {
  for (const batch of toBatches(events.map(toEntry))) {
    let pending = batch;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) {
        throw new Error(`SNS refused ${pending.length} of ${batch.length} events after ${round} attempts`);
      }
      if (round > 0) await backoff(round);
      const result = await snsClient().send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: pending }),
      );
      const failed = new Set((result.Failed ?? []).map((failure) => failure.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
  }
}

/** A new event with a fresh id and the current time. */
export function newEvent(fields: Omit<FoqusEvent, "id" | "time"> & { time?: string }): FoqusEvent {
  return { id: randomUUID(), time: fields.time ?? new Date().toISOString(), ...fields };
}
