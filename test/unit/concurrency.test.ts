/** mapLimit: bounded, ordered, and a failure leaves nothing running behind it. */
import test from "ava";
import { mapLimit } from "../../core/concurrency.ts";

test("results keep input order, with at most `limit` calls in flight", async (t) => {
  let inFlight = 0;
  let most = 0;
  const results = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, n));
    inFlight -= 1;
    return n * 10;
  });
  t.deepEqual(results, [50, 10, 40, 20, 30]);
  t.is(most, 2);
});

test("after a failure no new call starts, and the calls in flight end before it is thrown", async (t) => {
  const started: number[] = [];
  const finished: number[] = [];
  await t.throwsAsync(
    mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error("throttled");
      await new Promise((resolve) => setTimeout(resolve, 20));
      finished.push(n);
    }),
    { message: "throttled" },
  );
  t.deepEqual(started, [0, 1], "nothing started after the failure");
  t.deepEqual(finished, [0], "the call in flight ended before the failure was thrown");
});
