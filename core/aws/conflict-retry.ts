/**
 * @module aws/conflict-retry
 * A plain write of an item that a transaction in flight also names (a claim's check of its
 * session, sessions/fan-out.ts) fails with TransactionConflictException, which the SDK does not
 * retry: retried here, with backoff.
 */
import { TransactionConflictException } from "@aws-sdk/client-dynamodb";
import { isErrorOf } from "../errors.ts";
import { backoff } from "./retry.ts";

const MAX_ATTEMPTS = 6;

/** Runs `write`, again after a TransactionConflictException, up to MAX_ATTEMPTS times. */
export async function retryTransactionConflicts<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isErrorOf(error, TransactionConflictException) || attempt + 1 >= MAX_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}
