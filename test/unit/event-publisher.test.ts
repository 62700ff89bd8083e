import test from "ava";
import { toBatches } from "../../core/events/event-publisher.ts";
import type { FoqusEvent } from "../../core/events/events.ts";
import { Batcher } from "../../worker/batcher.ts";
import { makeEvent } from "../helpers/factories.ts";

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

test("the batcher sends queued items together and resolves each add", async (t) => {
  const sent: number[] = [];
  const outbox = new Batcher<FoqusEvent>(async (events) => {
    sent.push(events.length);
  }, 5);
  const event = makeEvent("job.setup");
  await Promise.all([outbox.add(event), outbox.add(event), outbox.add(event)]);
  t.deepEqual(sent, [3]);
});

test("the batcher rejects the adds of a batch that failed", async (t) => {
  const outbox = new Batcher<FoqusEvent>(async () => {
    throw new Error("SNS down");
  }, 1);
  const event = makeEvent("job.success");
  await t.throwsAsync(outbox.add(event), { message: "SNS down" });
});
