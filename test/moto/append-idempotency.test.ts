/**
 * FOQUS retries failed calls up to 5 times: a retried append must not double the jobs.
 */
import test from "ava";
import { newUser, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

async function setup(user: TestUser) {
  const sim = uniqueName("sim");
  await user.call("PUT", `/simulation/${sim}`, { body: { Application: "fake" } });
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  return { sim, sid };
}

async function listIds(user: TestUser, sid: string): Promise<string[]> {
  return ((await (await user.call("GET", `/session/${sid}`)).json()) as { Id: string }[]).map(
    (job) => job.Id,
  );
}

test("a retried append with the same Idempotency-Key answers the first ids and writes nothing", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  const body = Array.from({ length: 20 }, (_, i) => ({ Simulation: sim, Input: { i } }));
  const headers = { "idempotency-key": "chunk-1" };
  const first = (await (await user.call("POST", `/session/${sid}`, { body, headers })).json()) as string[];
  // The same JSON with other whitespace is the same request.
  const retry = await user.call("POST", `/session/${sid}`, { body: JSON.stringify(body, null, 2), headers });
  t.is(retry.status, 200);
  t.deepEqual(await retry.json(), first);
  t.deepEqual((await listIds(user, sid)).sort(), [...first].sort());
});

test("reusing an Idempotency-Key with a different body answers 409 and writes nothing", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  const headers = { "idempotency-key": "chunk-x" };
  await user.call("POST", `/session/${sid}`, { body: [{ Simulation: sim, Input: { a: 1 } }], headers });
  const reused = await user.call("POST", `/session/${sid}`, {
    body: [{ Simulation: sim, Input: { a: 2 } }],
    headers,
  });
  t.is(reused.status, 409);
  t.is(((await reused.json()) as { error: string }).error, "IdempotencyKeyReused");
  t.is((await listIds(user, sid)).length, 1);
});

test("the same key in two sessions (or for two users) is two different appends", async (t) => {
  const user = await newUser();
  const a = await setup(user);
  const b = await setup(user);
  const headers = { "idempotency-key": "same-key" };
  const idsA = (await (
    await user.call("POST", `/session/${a.sid}`, { body: [{ Simulation: a.sim }], headers })
  ).json()) as string[];
  const idsB = (await (
    await user.call("POST", `/session/${b.sid}`, { body: [{ Simulation: b.sim }], headers })
  ).json()) as string[];
  t.notDeepEqual(idsA, idsB);
  t.is((await listIds(user, b.sid)).length, 1);
});

test("without a key, a retried body with client-supplied Ids does not double the jobs", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  const body = [
    { Id: "job-a", Simulation: sim, Input: { x: 1 } },
    { Id: "job-b", Simulation: sim, Input: { x: 2 } },
  ];
  const first = (await (await user.call("POST", `/session/${sid}`, { body })).json()) as string[];
  t.deepEqual(first, ["job-a", "job-b"]);
  const retry = await user.call("POST", `/session/${sid}`, { body });
  t.is(retry.status, 200);
  t.deepEqual(await retry.json(), first);
  t.deepEqual((await listIds(user, sid)).sort(), ["job-a", "job-b"]);
});

test("a client Id reused with different content answers 409", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  await user.call("POST", `/session/${sid}`, { body: [{ Id: "job-a", Simulation: sim, Input: { x: 1 } }] });
  const conflict = await user.call("POST", `/session/${sid}`, {
    body: [{ Id: "job-a", Simulation: sim, Input: { x: 9 } }],
  });
  t.is(conflict.status, 409);
  t.is(((await conflict.json()) as { error: string }).error, "JobIdConflict");
});

test("FOQUS's retried append without key or Ids answers the first ids while those jobs are unstarted", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  const chunk = Array.from({ length: 20 }, (_, i) => ({ Simulation: sim, Input: { i }, Reset: false }));
  const first = await user.client.append(sid, chunk);
  // The first response was lost; FOQUS sends the same body again before its start.
  t.deepEqual(await user.client.append(sid, chunk), first);
  t.deepEqual((await listIds(user, sid)).sort(), [...first].sort());
  // A different body is a different append.
  const other = await user.client.append(sid, [{ Simulation: sim, Input: { i: 99 } }]);
  t.is((await listIds(user, sid)).length, 21);
  t.false(first.includes(other[0]!));
});

test("the same body appended after the session started is a new append, never swallowed", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  const chunk = [{ Simulation: sim, Input: { x: 1 } }];
  const first = await user.client.append(sid, chunk);
  await user.client.start(sid);
  const second = await user.client.append(sid, chunk);
  t.notDeepEqual(second, first);
  t.is((await listIds(user, sid)).length, 2);
});

test("a key reused with another body after its records expired still writes nothing over existing jobs", async (t) => {
  const user = await newUser();
  const { sim, sid } = await setup(user);
  // Two requests whose derived ids collide stand for a key used again after its 24 h window.
  const { appendJobs } = await import("../../core/jobs/append-jobs.ts");
  const ids = await appendJobs(user.username, sid, [{ Simulation: sim, Input: { a: 1 } }], {
    idempotencyKey: "old-key",
  });
  await user.client.start(sid);
  await t.throwsAsync(
    appendJobs(user.username, sid, [{ Simulation: sim, Input: { a: 2 } }], { idempotencyKey: "old-key" }),
    { name: "ConflictError", message: /Idempotency-Key/ },
  );
  const jobs = await user.client.jobs(sid);
  t.deepEqual(
    jobs.map((job) => [job.Id, job.State, job.Input]),
    [[ids[0], "submit", { a: 1 }]],
  );
});
