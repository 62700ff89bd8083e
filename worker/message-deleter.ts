/**
 * @module message-deleter
 * Deletes finished jobs' messages with SQS DeleteMessageBatch. An entry that fails is retried
 * once alone; if that fails too the message simply reappears after its lease, and the job's
 * record (already terminal) makes the next worker skip it.
 */
import { DeleteMessageBatchCommand, DeleteMessageCommand } from "@aws-sdk/client-sqs";
import { sqsClient } from "../core/aws/clients.ts";
import { Batcher } from "./batcher.ts";

export function createMessageDeleter(queueUrl: string): Batcher<string> {
  return new Batcher<string>(async (receiptHandles) => {
    const { Failed } = await sqsClient().send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: receiptHandles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
      }),
    );
    for (const failure of Failed ?? []) {
      const handle = receiptHandles[Number(failure.Id)];
      if (handle)
        await sqsClient().send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handle }));
    }
  });
}
