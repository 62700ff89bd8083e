/**
 * @module local/runtime/lambda-context
 * A Lambda Context for handlers invoked by the local runtime, and the one place those invocations
 * can be watched (`observeInvocations`: the benchmark counts and times them, as Lambda bills them).
 */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

/** One finished invocation of a handler by the local runtime. */
export interface Invocation {
  functionName: string;
  /** Wall time of the handler's promise, in milliseconds. */
  durationMs: number;
  event: unknown;
  /** The handler's result (undefined when it threw). */
  result: unknown;
  failed: boolean;
}

export type InvocationObserver = (invocation: Invocation) => void;

let observer: InvocationObserver | undefined;

/** Calls `next` after every invocation from now on (undefined: none). One observer per process. */
export function observeInvocations(next: InvocationObserver | undefined): void {
  observer = next;
}

/** `handler`, timed and reported to the invocation observer when there is one. */
export function observed<E, R>(
  functionName: string,
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    const started = performance.now();
    let result: R | undefined;
    let failed = true;
    try {
      result = await handler(event, context);
      failed = false;
      return result;
    } finally {
      observer?.({ functionName, durationMs: performance.now() - started, event, result, failed });
    }
  };
}

export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
