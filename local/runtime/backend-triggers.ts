/**
 * @module local/runtime/backend-triggers
 * What Lambda's event-source mappings do on AWS, for the whole backend at once: the update
 * processor on the update queue and on every pool's job dead-letter queue (SQS triggers), the
 * submit publisher on the jobs table's stream, the archiver, the restorer and the fan-out
 * function on their queues, and what EventBridge Scheduler does with due archive schedules
 * (moto never fires them). The local stack and the tests start it.
 */
import type { DynamoDBStreamEvent, SQSEvent } from "aws-lambda";
import type { StackOutputs } from "../env/terraform.ts";
import { observed } from "./lambda-context.ts";
import { type SchedulerPump, startSchedulerPump } from "./scheduler-pump.ts";
import { type SqsTrigger, startSqsTrigger } from "./sqs-trigger.ts";
import { type StreamTrigger, startStreamTrigger } from "./stream-trigger.ts";

export interface BackendTriggerOptions {
  /** Long-poll wait of the SQS triggers (tests use 1 s). */
  waitTimeSeconds?: number;
  /** Visibility of received batches, so failed records come back sooner (tests use 1 s). */
  visibilityTimeoutSeconds?: number;
  /** Read the jobs stream from now on only (tests on a shared emulator); default from its start. */
  streamFromNow?: boolean;
  onError?: (functionName: string, error: unknown) => void;
}

export interface BackendTriggers {
  /** How many queues and streams are polled. */
  readonly sources: number;
  stop(): Promise<void>;
}

export async function startBackendTriggers(
  outputs: StackOutputs,
  options: BackendTriggerOptions = {},
): Promise<BackendTriggers> {
  // Each handler timed for the invocation observer, under its function's name (lambda-context.ts).
  const updateProcessor = observed(
    "update-processor",
    (await import("../../handlers/update-processor.ts")).handler,
  );
  const submitPublisher = observed(
    "submit-publisher",
    (await import("../../handlers/submit-publisher.ts")).handler,
  );
  const archiver = observed("archiver", (await import("../../handlers/archiver.ts")).handler);
  const restorer = observed("restorer", (await import("../../handlers/restorer.ts")).handler);
  const fanOut = observed("fan-out", (await import("../../handlers/fan-out.ts")).handler);
  const queues = [outputs.update_queue_url, ...Object.values(outputs.job_dead_letter_queue_urls)];
  const triggers: (SqsTrigger | StreamTrigger | SchedulerPump)[] = [];
  try {
    for (const queueUrl of queues) {
      triggers.push(
        await startSqsTrigger({
          queueUrl,
          functionName: "update-processor",
          handler: (event: SQSEvent, context) => updateProcessor(event, context),
          ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
          ...(options.visibilityTimeoutSeconds !== undefined
            ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
            : {}),
          onError: (error) => options.onError?.("update-processor", error),
        }),
      );
    }
    const tierHandlers = [
      { queueUrl: outputs.archive_queue_url, functionName: "archiver", handler: archiver },
      { queueUrl: outputs.restore_queue_url, functionName: "restorer", handler: restorer },
      // Pages of large starts, stops, kills and deletes (core/sessions/fan-out.ts).
      { queueUrl: outputs.fanout_queue_url, functionName: "fan-out", handler: fanOut },
    ];
    for (const { queueUrl, functionName, handler } of tierHandlers) {
      triggers.push(
        await startSqsTrigger({
          queueUrl,
          functionName,
          handler: (event: SQSEvent, context) => handler(event, context),
          batchSize: 1,
          ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
          ...(options.visibilityTimeoutSeconds !== undefined
            ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
            : {}),
          onError: (error) => options.onError?.(functionName, error),
        }),
      );
    }
    triggers.push(startSchedulerPump({ onError: (error) => options.onError?.("scheduler", error) }));
    const jobsTable = outputs.table_names.jobs;
    if (!jobsTable) throw new Error("The stack has no jobs table (terraform output table_names.jobs).");
    triggers.push(
      await startStreamTrigger({
        tableName: jobsTable,
        functionName: "submit-publisher",
        handler: (event: DynamoDBStreamEvent, context) => submitPublisher(event, context),
        startAt: options.streamFromNow ? "LATEST" : "TRIM_HORIZON",
        onError: (error) => options.onError?.("submit-publisher", error),
      }),
    );
  } catch (error) {
    await Promise.allSettled(triggers.map((trigger) => trigger.stop()));
    throw error;
  }
  return {
    sources: triggers.length,
    async stop() {
      await Promise.all(triggers.map((trigger) => trigger.stop()));
    },
  };
}
