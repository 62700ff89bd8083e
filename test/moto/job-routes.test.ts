/**
 * The turbine client's [Job] URL: one job by its id (GET /job/{id}), terminating one job
 * (POST /job/{id}/terminate), and a session's jobs through GET /job?session=.
 */
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import type { JobRecord } from "../../client/api-client.ts";
import { newUser, startUpdateProcessor, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.before(async () => {
  await startUpdateProcessor();
});
test.after.always(stopAll);

async function sessionWithJobs(user: TestUser, jobs: Record<string, unknown>[]) {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  const ids = await user.client.append(
    sid,
    jobs.map((job) => ({ Simulation: sim, ...job })),
  );
  return { sim, sid, ids };
}

/** GET /job/{id}, retried while the id index has not caught up (it is eventually consistent). */
async function jobById(user: TestUser, id: string): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await user.call("GET", `/job/${id}`);
    if (response.status !== 404 || attempt === 20) return response;
    await sleep(100);
  }
}

test("GET /job/{id} answers the job's record, with its input and state", async (t) => {
  const user = await newUser();
  const { sid, ids } = await sessionWithJobs(user, [{ Input: { x: 1 } }, { Input: { x: 2 } }]);
  const response = await jobById(user, ids[1]!);
  t.is(response.status, 200);
  const job = (await response.json()) as JobRecord;
  t.is(job.Id, ids[1] as string);
  t.is(job.Session, sid);
  t.is(job.State, "create");
  t.deepEqual(job.Input, { x: 2 });
  t.is(job.Output, null);
});

test("an unknown job id answers 404 JobNotFound; an id shared by two sessions answers 409", async (t) => {
  const user = await newUser();
  const missing = await user.call("GET", "/job/00000000-0000-4000-8000-000000000000");
  t.is(missing.status, 404);
  t.is(((await missing.json()) as { error: string }).error, "JobNotFound");
  await sessionWithJobs(user, [{ Id: "shared-id" }]);
  await sessionWithJobs(user, [{ Id: "shared-id" }]);
  let response = await user.call("GET", "/job/shared-id");
  for (let attempt = 0; response.status !== 409 && attempt < 20; attempt++) {
    await sleep(100);
    response = await user.call("GET", "/job/shared-id");
  }
  t.is(response.status, 409);
  const body = (await response.json()) as { error: string; message: string };
  t.is(body.error, "AmbiguousJobId");
  t.regex(body.message, /GET \/session\/\{sid\}/);
});

test("POST /job/{id}/terminate ends that job alone and answers 1, then 0 once it has finished", async (t) => {
  const user = await newUser();
  const { sid, ids } = await sessionWithJobs(user, [{}, {}]);
  await jobById(user, ids[0]!);
  t.is(await (await user.call("POST", `/job/${ids[0]}/terminate`)).text(), "1");
  const deadline = Date.now() + 60_000;
  let jobs = await user.client.jobs(sid);
  while (jobs.find((job) => job.Id === ids[0])?.State !== "terminate" && Date.now() < deadline) {
    await sleep(200);
    jobs = await user.client.jobs(sid);
  }
  t.deepEqual(
    jobs.map((job) => [job.Id, job.State]),
    [
      [ids[0], "terminate"],
      [ids[1], "create"],
    ],
  );
  t.is(await (await user.call("POST", `/job/${ids[0]}/terminate`)).text(), "0");
});

test("GET /job?session= lists the session's jobs, filtered by state; without a session it answers 400", async (t) => {
  const user = await newUser();
  const { sid, ids } = await sessionWithJobs(user, [{}, {}]);
  const all = (await (await user.call("GET", `/job?session=${sid}`)).json()) as JobRecord[];
  t.deepEqual(
    all.map((job) => job.Id),
    ids,
  );
  t.deepEqual(await (await user.call("GET", `/job?session=${sid}&state=success`)).json(), []);
  const bad = await user.call("GET", "/job");
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { message: string }).message, /\?session=/);
});
