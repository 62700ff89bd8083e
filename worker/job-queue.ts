/**
 * @module job-queue
 * The worker's port to its pool's job queue, and the one implementation of it on SQS. The loop
 * receives deliveries through it, a job's run deletes or releases its delivery, the heartbeat
 * extends the leases of all in hand; nothing else in the worker talks to SQS, so the loop and the
 * run can be tested with a queue in memory.
 *
 * On SQS a delivery is identified by its receipt handle, which is new on every receive: two
 * deliveries of one message never share one. Deletes go out together (DeleteMessageBatch, 10 a
 * call, each failed entry retried once alone), as do lease extensions (ChangeMessageVisibilityBatch).
 *
 * Two ways back to the queue. SQS counts every receive toward the queue's maxReceiveCount, after
 * which the message goes to the pool's dead-letter queue and the job ends `worker-lost`; those
 * receives are meant for workers that died. So `requeue`, for releases that are no death
 * (worker/release.ts), sends a fresh copy of the message (SendMessage, with a delay up to SQS's
 * 900 s and the `releases` message attribute counting such releases) and only then deletes the
 * received one: the copy starts with a receive count of 0, and a crash in between leaves two
 * messages of the job, never none (a duplicate is harmless, worker/worker.ts). `release` is the
 * plain way (ChangeMessageVisibility), which spends the delivery.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { sqsClient } from "../core/aws/sqs-client.ts";
import { RELEASES_ATTRIBUTE } from "../core/jobs/worker-lost.ts";
import { Batcher } from "./batcher.ts";

/** Most deliveries one receive returns, and most entries in one batched call (SQS's limit). */
export const MAX_RECEIVE = 10;

/** One receive of a job message. */
export interface Delivery {
  /** Unique to this delivery (a redelivery of the same message has another); what the queue acts on. */
  readonly id: string;
  readonly body: string;
  /** How many times the message was delivered, this time included (1 the first time). */
  readonly attempt: number;
  /** How many times the job was requeued for a release that was no death (absent: none). */
  readonly releases?: number;
  /** The X-Ray trace header the message carries (SQS's AWSTraceHeader, or its event's own). */
  readonly trace?: string;
}

/** SQS's longest message delay (DelaySeconds), in seconds. */
export const MAX_DELAY_SECONDS = 900;

export interface JobQueue {
  /**
   * Long-polls for up to `max` deliveries (at most 10), each leased to this worker for the
   * queue's lease length. Rejects when `signal` aborts.
   */
  receive(max: number, signal: AbortSignal): Promise<Delivery[]>;
  /** Deletes the delivery's message for good, batched with other deletes; resolves once done. */
  delete(delivery: Delivery): Promise<void>;
  /**
   * Ends the delivery's lease in `delaySeconds` (default 0: at once), so that a worker receives
   * the message again then. The receive still counts toward the queue's maxReceiveCount.
   */
  release(delivery: Delivery, delaySeconds?: number): Promise<void>;
  /**
   * Puts a fresh copy of the delivery's message on the queue, visible after `delaySeconds` (at
   * most 900) and carrying `releases`, then deletes the delivery's message. The copy's receive
   * count starts at 0: this release spends none of the deliveries meant for crashed workers.
   */
  requeue(delivery: Delivery, options: { delaySeconds: number; releases: number }): Promise<void>;
  /**
   * Extends the leases of these deliveries to a full lease from now. Rejects when `signal`
   * aborts (the heartbeat gives each call a deadline).
   */
  extend(deliveries: readonly Delivery[], signal?: AbortSignal): Promise<void>;
  /** Sends the deletes still waiting for their batch. */
  flush(): Promise<void>;
}

export interface SqsJobQueueOptions {
  queueUrl: string;
  /** Visibility timeout given on receive and on every extension, in seconds. */
  leaseSeconds: number;
  /** Long-poll wait of one receive, in seconds (SQS allows up to 20). */
  waitSeconds?: number;
}

export class SqsJobQueue implements JobQueue {
  private readonly queueUrl: string;
  private readonly leaseSeconds: number;
  private readonly waitSeconds: number;
  private readonly deletes: Batcher<string>;

  constructor(options: SqsJobQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.leaseSeconds = options.leaseSeconds;
    this.waitSeconds = options.waitSeconds ?? 20;
    this.deletes = new Batcher<string>((receiptHandles) => this.deleteBatch(receiptHandles));
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    const { Messages } = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(MAX_RECEIVE, max),
        WaitTimeSeconds: this.waitSeconds,
        VisibilityTimeout: this.leaseSeconds,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "AWSTraceHeader"],
        MessageAttributeNames: [RELEASES_ATTRIBUTE],
      }),
      { abortSignal: signal },
    );
    // SQS always sends a receipt handle; a message without one could be neither deleted nor
    // released, and simply reappears after its lease.
    return (Messages ?? []).flatMap((message) =>
      message.ReceiptHandle
        ? [
            {
              id: message.ReceiptHandle,
              body: message.Body ?? "",
              attempt: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
              releases: Number(message.MessageAttributes?.[RELEASES_ATTRIBUTE]?.StringValue ?? "0") || 0,
              ...(message.Attributes?.AWSTraceHeader ? { trace: message.Attributes.AWSTraceHeader } : {}),
            },
          ]
        : [],
    );
  }

  delete(delivery: Delivery): Promise<void> {
    return this.deletes.add(delivery.id);
  }

  async release(delivery: Delivery, delaySeconds = 0): Promise<void> {
    await sqsClient().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: delivery.id,
        VisibilityTimeout: Math.max(0, Math.round(delaySeconds)),
      }),
    );
  }

  async requeue(delivery: Delivery, options: { delaySeconds: number; releases: number }): Promise<void> {
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: delivery.body,
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(options.delaySeconds))),
        MessageAttributes: {
          [RELEASES_ATTRIBUTE]: { DataType: "Number", StringValue: String(options.releases) },
        },
      }),
    );
    // Only now: had the copy not been sent, the received message would still be there.
    await this.delete(delivery);
  }

  async extend(deliveries: readonly Delivery[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < deliveries.length; i += MAX_RECEIVE) {
      const batch = deliveries.slice(i, i + MAX_RECEIVE);
      await sqsClient().send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((delivery, j) => ({
            Id: String(j),
            ReceiptHandle: delivery.id,
            VisibilityTimeout: this.leaseSeconds,
          })),
        }),
        signal ? { abortSignal: signal } : {},
      );
    }
  }

  flush(): Promise<void> {
    return this.deletes.flush();
  }

  /**
   * One DeleteMessageBatch; an entry that fails is retried once alone. If that fails too the
   * message reappears after its lease, and the job's record (already terminal) makes the next
   * worker skip it.
   */
  private async deleteBatch(receiptHandles: string[]): Promise<void> {
    const { Failed } = await sqsClient().send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: receiptHandles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
      }),
    );
    for (const failure of Failed ?? []) {
      const handle = receiptHandles[Number(failure.Id)];
      if (handle)
        await sqsClient().send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle }));
    }
  }
}
