/**
 * The worker's SQS port (worker/job-queue.ts) against SQS on moto, on queues of its own with a
 * dead-letter queue after 2 receives: a requeue (a fresh copy, then the delete) spends none of
 * the deliveries meant for crashed workers and carries its count of releases, even into the
 * dead-letter queue; a plain release spends one; an extension honours its deadline.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import test from "ava";
import { sqsClient } from "../../core/aws/sqs-client.ts";
import { RELEASES_ATTRIBUTE } from "../../core/jobs/worker-lost.ts";
import { SqsJobQueue } from "../../worker/job-queue.ts";
import { uniqueName } from "../helpers/stack.ts";

const MAX_RECEIVE_COUNT = 2;

async function queuePair(t: { teardown: (fn: () => Promise<void>) => void }) {
  const name = uniqueName("jobs");
  const dlq = await sqsClient().send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queue = await sqsClient().send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl!;
  const dlqUrl = dlq.QueueUrl!;
  t.teardown(async () => {
    for (const url of [queueUrl, dlqUrl]) await sqsClient().send(new DeleteQueueCommand({ QueueUrl: url }));
  });
  await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"job":"j1"}' }));
  return { jobs: new SqsJobQueue({ queueUrl, leaseSeconds: 30, waitSeconds: 2 }), queueUrl, dlqUrl };
}

const never = () => new AbortController().signal;

async function receiveOne(jobs: SqsJobQueue) {
  for (let i = 0; i < 5; i++) {
    const [delivery] = await jobs.receive(1, never());
    if (delivery) return delivery;
  }
  return undefined;
}

test("requeues spend no delivery: more of them than maxReceiveCount leave the job on its queue", async (t) => {
  const { jobs, dlqUrl } = await queuePair(t);
  for (let releases = 0; releases <= MAX_RECEIVE_COUNT + 1; releases++) {
    const delivery = await receiveOne(jobs);
    t.is(delivery?.body, '{"job":"j1"}');
    t.is(delivery?.attempt, 1, "the copy's receive count starts again");
    t.is(delivery?.releases, releases);
    await jobs.requeue(delivery!, { delaySeconds: 0, releases: releases + 1 });
  }
  const dead = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 0 }));
  t.is(dead.Messages?.length ?? 0, 0);
  t.is((await receiveOne(jobs))?.releases, MAX_RECEIVE_COUNT + 2);
});

test("a plain release spends a delivery: after maxReceiveCount the job is in the DLQ, its releases counted", async (t) => {
  const { jobs, dlqUrl } = await queuePair(t);
  await jobs.requeue((await receiveOne(jobs))!, { delaySeconds: 0, releases: 7 });
  for (let attempt = 1; attempt <= MAX_RECEIVE_COUNT; attempt++) {
    const delivery = await receiveOne(jobs);
    t.is(delivery?.attempt, attempt);
    await jobs.release(delivery!);
  }
  const [gone] = await jobs.receive(1, never());
  t.is(gone, undefined);
  const dead = await sqsClient().send(
    new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 2, MessageAttributeNames: ["All"] }),
  );
  t.is(dead.Messages?.length, 1);
  // What the update processor reads to say how often the job was released transiently.
  t.is(dead.Messages?.[0]?.MessageAttributes?.[RELEASES_ATTRIBUTE]?.StringValue, "7");
});

test("a requeued copy stays hidden for its delay", async (t) => {
  const { jobs } = await queuePair(t);
  await jobs.requeue((await receiveOne(jobs))!, { delaySeconds: 30, releases: 1 });
  const [hidden] = await jobs.receive(1, never());
  t.is(hidden, undefined);
});

test("an extension rejects when its deadline's signal aborts", async (t) => {
  const { jobs } = await queuePair(t);
  const delivery = (await receiveOne(jobs))!;
  const deadline = new AbortController();
  deadline.abort(new Error("deadline"));
  await t.throwsAsync(jobs.extend([delivery], deadline.signal));
  await t.notThrowsAsync(jobs.extend([delivery], never()));
});
