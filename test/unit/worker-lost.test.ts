/** The dead-letter rule: only a job.submit from a configured job DLQ becomes worker-lost. */
import test from "ava";
import { EventTypes } from "../../core/events/events.ts";
import { eventFromQueue } from "../../core/jobs/worker-lost.ts";
import { MAX_TRANSIENT_RELEASES } from "../../core/limits.ts";
import { jobDeadLetterQueueArn, makeEvent } from "../helpers/factories.ts";

const DLQ = jobDeadLetterQueueArn("linux");
const submit = makeEvent(EventTypes.jobSubmit, { id: "e1", job: "j1" });

test("a job.submit from a configured job dead-letter queue becomes a worker-lost error", (t) => {
  const event = eventFromQueue(submit, { queueArn: DLQ, receiveCount: "3" }, [DLQ]);
  t.is(event.event, EventTypes.jobError);
  t.is(event.errorClass, "worker-lost");
  t.is(event.id, "e1:worker-lost");
  t.is(event.job, "j1");
  t.regex(event.message ?? "", /delivered 3 times.*dead-letter queue/);
});

test("the same event from any other queue, or any other event from the DLQ, is left as it is", (t) => {
  const updateQueue = "arn:aws:sqs:us-east-1:123456789012:foqus-updates";
  t.is(eventFromQueue(submit, { queueArn: updateQueue, receiveCount: "1" }, [DLQ]), submit);
  // A queue whose name merely looks like a DLQ is not one unless configured.
  t.is(eventFromQueue(submit, { queueArn: `${DLQ}-2`, receiveCount: "9" }, [DLQ]), submit);
  const running = makeEvent(EventTypes.jobRunning, { job: "j1" });
  t.is(eventFromQueue(running, { queueArn: DLQ, receiveCount: "3" }, [DLQ]), running);
});

test("a worker-lost message counts the job's transient releases, and says when they reached the cap", (t) => {
  const some = eventFromQueue(submit, { queueArn: DLQ, receiveCount: "3", releases: "2" }, [DLQ]);
  t.regex(
    some.message ?? "",
    /delivered 3 times.*released it 2 times for transient failures.*spend no delivery/,
  );
  const capped = eventFromQueue(
    submit,
    { queueArn: DLQ, receiveCount: "3", releases: String(MAX_TRANSIENT_RELEASES) },
    [DLQ],
  );
  t.regex(capped.message ?? "", /kept failing transiently/);
  const none = eventFromQueue(submit, { queueArn: DLQ, receiveCount: "3" }, [DLQ]);
  t.notRegex(none.message ?? "", /released/);
});
