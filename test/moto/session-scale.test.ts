/** A 10,000-job session is appended in batches and listed whole (paginated Query, no Scan). */
import test from "ava";
import { newUser, stopAll, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

test("GET /session/{sid} returns every job of a 10,000-job session", async (t) => {
  const user = await newUser();
  const sim = uniqueName("sim");
  await user.call("PUT", `/simulation/${sim}`, { body: { Application: "fake" } });
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  const appended: string[] = [];
  for (let chunk = 0; chunk < 10; chunk++) {
    const body = Array.from({ length: 1000 }, (_, i) => ({
      Simulation: sim,
      Input: { chunk, i, x: Math.PI * i },
    }));
    const response = await user.call("POST", `/session/${sid}`, { body });
    t.is(response.status, 200);
    appended.push(...((await response.json()) as string[]));
  }
  const listing = await user.call("GET", `/session/${sid}`);
  t.is(listing.status, 200);
  const jobs = (await listing.json()) as { Id: string; Input: { chunk: number; i: number } }[];
  t.is(jobs.length, 10_000);
  t.deepEqual(
    jobs.map((job) => job.Id),
    appended,
  );
  t.deepEqual(jobs[9_999]?.Input, { chunk: 9, i: 999, x: Math.PI * 999 });
});
