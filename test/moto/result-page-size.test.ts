/**
 * Every page can be served: a page whose records do not fit one Lambda response ends at what
 * fits and the rest go to the next page; a record that fits no page is skipped with a clear
 * error, and the session keeps paging. Through the local gateway, which refuses a response over
 * Lambda's 6 MB as API Gateway would.
 */
import test from "ava";
import { EventTypes } from "../../core/events/events.ts";
import { appendJobs } from "../../core/jobs/append-jobs.ts";
import { applyEvent } from "../../core/jobs/apply-event.ts";
import { outputKey, putOutput } from "../../core/results/output-store.ts";
import { makeEvent } from "../helpers/factories.ts";
import { newUser, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

/** A session whose jobs finished with outputs of `sizes` bytes, kept in S3 as a worker keeps them. */
async function finishedWithOutputs(user: TestUser, sizes: number[]) {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  const ids = await appendJobs(
    user.username,
    sid,
    sizes.map((_, i) => ({ Simulation: sim, Input: { i } })),
  );
  for (const [i, size] of sizes.entries()) {
    const key = outputKey(user.username, sid, ids[i]!, "attempt-1");
    await putOutput(key, JSON.stringify({ graphError: 0, blob: "x".repeat(size) }));
    const event = makeEvent(EventTypes.jobSuccess, {
      username: user.username,
      session: sid,
      job: ids[i]!,
      outputKey: key,
    });
    mustApply(await applyEvent(event));
  }
  return { sid, ids };
}

function mustApply(outcome: string): void {
  if (outcome !== "applied") throw new Error(`the terminal event was ${outcome}`);
}

test("a page too large for one response ends where it fits; the rest come in the next pages, once each", async (t) => {
  const user = await newUser();
  const mb = 1024 * 1024;
  const { sid, ids } = await finishedWithOutputs(user, [1.5 * mb, 1.5 * mb, 1.5 * mb, 10]);
  const seen: string[] = [];
  for (let round = 0; round < 10 && seen.length < ids.length; round++) {
    const page = await user.client.closePage(sid);
    const records = await user.client.readPage(sid, page);
    t.true(records.length > 0, `page ${page} carried records`);
    seen.push(...records.map((record) => record.Id));
  }
  t.deepEqual([...seen].sort(), [...ids].sort(), "every job exactly once");
  t.true(seen.length === new Set(seen).size);
});

test("a record that fits no page answers 413 naming its job, and the session keeps paging", async (t) => {
  const user = await newUser();
  const { sid, ids } = await finishedWithOutputs(user, [10, 4 * 1024 * 1024, 10]);
  const first = await user.client.closePage(sid);
  const firstRecords = await user.client.readPage(sid, first);
  t.deepEqual(
    firstRecords.map((record) => record.Id),
    [ids[0]],
  );
  const second = await user.client.closePage(sid);
  const tooLarge = await user.call(
    "GET",
    `/session/${sid}/result/00000000-0000-0000-0000-000000000000/${second}`,
  );
  t.is(tooLarge.status, 413);
  const error = (await tooLarge.json()) as { error: string; message: string };
  t.is(error.error, "PayloadTooLarge");
  t.true(error.message.includes(ids[1]!), error.message);
  // The next close goes on with the job after it.
  const third = await user.client.closePage(sid);
  t.is(third, second + 1);
  t.deepEqual(
    (await user.client.readPage(sid, third)).map((record) => record.Id),
    [ids[2]],
  );
});
