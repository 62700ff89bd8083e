import test from "ava";
import { Batcher } from "../../worker/batcher.ts";

test("a flush waits for a batch another flush is still sending", async (t) => {
  let finishSend: () => void = () => undefined;
  const sent: number[][] = [];
  const batcher = new Batcher<number>(
    (items) =>
      new Promise<void>((resolve) => {
        sent.push(items);
        finishSend = resolve;
      }),
    60_000,
  );
  const added = batcher.add(1);
  const first = batcher.flush();
  let secondDone = false;
  const second = batcher.flush().then(() => {
    secondDone = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(sent, [[1]]);
  t.false(secondDone, "the second flush returned while the first batch was still being sent");
  finishSend();
  await Promise.all([added, first, second]);
  t.true(secondDone);
});

test("a flush never rejects; a failed send rejects the adds of its batch", async (t) => {
  const batcher = new Batcher<number>(async () => {
    throw new Error("down");
  }, 60_000);
  const rejected = t.throwsAsync(batcher.add(1), { message: "down" });
  await t.notThrowsAsync(batcher.flush());
  await rejected;
});
