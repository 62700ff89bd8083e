import test from "ava";
import { toBatches } from "../../core/events/event-publisher.ts";
import type { FoqusEvent } from "../../core/events/events.ts";
import { EventOutbox } from "../../worker/event-outbox.ts";

const entry = (size: number, id = "x") => ({ Id: id, Message: "m".repeat(size) });

test("batches hold at most 10 entries", (t) => {
  const batches = toBatches(Array.from({ length: 25 }, (_, i) => entry(10, String(i))));
  t.deepEqual(
    batches.map((b) => b.length),
    [10, 10, 5],
  );
});

test("batches stay within 256 KB in total", (t) => {
  const batches = toBatches([entry(200_000), entry(100_000), entry(100_000)]);
  t.deepEqual(
    batches.map((b) => b.length),
    [1, 2],
  );
});

test("the outbox publishes queued events together and resolves each publish", async (t) => {
  const sent: number[] = [];
  const outbox = new EventOutbox(async (events) => {
    sent.push(events.length);
  }, 5);
  const event = { id: "1", event: "job.setup", time: "t", username: "u", session: "s" } as FoqusEvent;
  await Promise.all([outbox.publish(event), outbox.publish(event), outbox.publish(event)]);
  t.deepEqual(sent, [3]);
});

test("the outbox rejects the publishes of a batch that failed", async (t) => {
  const outbox = new EventOutbox(async () => {
    throw new Error("SNS down");
  }, 1);
  const event = { id: "1", event: "job.success", time: "t", username: "u", session: "s" } as FoqusEvent;
  await t.throwsAsync(outbox.publish(event), { message: "SNS down" });
});
