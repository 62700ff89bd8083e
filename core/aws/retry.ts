/** @module aws/retry — backoff for DynamoDB's unprocessed items, which the SDK does not retry. */
import { setTimeout as sleep } from "node:timers/promises";

/** Full-jitter exponential backoff: attempt 0 → up to 50 ms, doubling, capped at 2 s. */
export function backoffMs(attempt: number, baseMs = 50, capMs = 2000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export async function backoff(attempt: number): Promise<void> {
  await sleep(backoffMs(attempt));
}

/** Throws after this many rounds with items still unprocessed. */
export const MAX_UNPROCESSED_ROUNDS = 8;
