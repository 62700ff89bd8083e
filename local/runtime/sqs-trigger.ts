/**
 * @module local/runtime/sqs-trigger
 * A local stand-in for a Lambda SQS event-source mapping (moto cannot run Lambdas): long-polls a
 * queue, invokes the handler with the Lambda SQS batch event, deletes the records that
 * succeeded and leaves the reported batch item failures (or the whole batch, if the handler
 * throws) to reappear after the visibility timeout, as Lambda does.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { sqsClient } from "../../core/aws/sqs-client.ts";
import { lambdaContext } from "./lambda-context.ts";

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface SqsTriggerOptions {
  queueUrl: string;
  functionName: string;
  handler: SqsHandler;
  batchSize?: number;
  waitTimeSeconds?: number;
  /** Overrides the queue's visibility timeout for received batches (tests retry faster). */
  visibilityTimeoutSeconds?: number;
  onError?: (error: unknown) => void;
}

export interface SqsTrigger {
  stop(): Promise<void>;
  /** Batches handed to the handler so far. */
  readonly invocations: number;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSRecord["messageAttributes"] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: "us-east-1",
  };
}

export async function startSqsTrigger(options: SqsTriggerOptions): Promise<SqsTrigger> {
  const sqs = sqsClient();
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueArn = Attributes?.QueueArn ?? options.queueUrl;
  let running = true;
  let invocations = 0;
  const abort = new AbortController();

  const loop = (async () => {
    while (running) {
      try {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize ?? 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 5,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
            ...(options.visibilityTimeoutSeconds !== undefined
              ? { VisibilityTimeout: options.visibilityTimeoutSeconds }
              : {}),
          }),
          { abortSignal: abort.signal },
        );
        if (!Messages || Messages.length === 0) continue;
        const records = Messages.map((message) => toRecord(message, queueArn));
        invocations += 1;
        let failed: Set<string>;
        try {
          const result = await options.handler({ Records: records }, lambdaContext(options.functionName));
          failed = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        } catch (error) {
          options.onError?.(error);
          continue; // the whole batch reappears after the visibility timeout
        }
        const done = records.filter((record) => !failed.has(record.messageId));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle })),
            }),
          );
        }
      } catch (error) {
        if (!running) break;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();

  return {
    get invocations() {
      return invocations;
    },
    async stop() {
      running = false;
      abort.abort();
      await loop;
    },
  };
}
