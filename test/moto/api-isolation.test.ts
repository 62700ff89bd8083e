/**
 * One user can never see or touch another's sessions, simulations, jobs or results: every
 * route answers another user's id exactly as an id that does not exist (404), and changes nothing.
 */
import test from "ava";
import { newUser, stopAll, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

test("another user's session, simulation and files answer 404 on every route", async (t) => {
  const alice = await newUser();
  const mallory = await newUser();
  const sim = uniqueName("sim");
  await alice.call("PUT", `/simulation/${sim}`, { body: { Application: "fake" } });
  await alice.call("PUT", `/simulation/${sim}/input/secret.txt`, {
    raw: "secret",
    headers: { "content-type": "text/plain" },
  });
  const sid = (await (await alice.call("POST", "/session")).json()) as string;
  const ids = (await (
    await alice.call("POST", `/session/${sid}`, { body: [{ Simulation: sim }] })
  ).json()) as string[];
  const gen = "00000000-0000-0000-0000-000000000000";

  const attempts: [string, string, unknown?][] = [
    ["GET", `/session/${sid}`],
    ["POST", `/session/${sid}`, [{ Simulation: sim }]],
    ["POST", `/session/${sid}/start`],
    ["POST", `/session/${sid}/stop`],
    ["POST", `/session/${sid}/kill`],
    ["DELETE", `/session/${sid}`],
    ["POST", `/session/${sid}/result/${gen}`],
    ["GET", `/session/${sid}/result/${gen}/1`],
    ["POST", `/session/${sid}/result`],
    ["GET", `/simulation/${sim}`],
    ["DELETE", `/simulation/${sim}`],
    ["GET", `/simulation/${sim}/input/secret.txt`],
    ["POST", `/simulation/${sim}/input/secret.txt?method=getObject`],
    ["POST", `/simulation/${sim}/input/secret.txt?method=putObject`],
    ["GET", `/job/${ids[0]}`],
    ["POST", `/job/${ids[0]}/terminate`],
    ["GET", `/job?session=${sid}`],
  ];
  for (const [method, path, body] of attempts) {
    const response = await mallory.call(method, path, body === undefined ? {} : { body });
    t.is(response.status, 404, `${method} ${path}`);
  }
  // Uploading "into" alice's simulation creates nothing of hers.
  const upload = await mallory.call("PUT", `/simulation/${sim}/input/secret.txt`, {
    raw: "evil",
    headers: { "content-type": "text/plain" },
  });
  t.is(upload.status, 404);
  t.deepEqual(await (await mallory.call("GET", "/session")).json(), []);
  t.deepEqual(await (await mallory.call("GET", "/simulation")).json(), []);

  // Alice's things are untouched.
  const jobs = (await (await alice.call("GET", `/session/${sid}`)).json()) as { Id: string; State: string }[];
  t.deepEqual(
    jobs.map((job) => [job.Id, job.State]),
    [[ids[0], "create"]],
  );
  t.is(await (await alice.call("GET", `/simulation/${sim}/input/secret.txt`)).text(), "secret");
});

test("a simulation of the same name is each user's own", async (t) => {
  const alice = await newUser();
  const bob = await newUser();
  await alice.call("PUT", "/simulation/shared-name", { body: { Application: "fake" } });
  await bob.call("PUT", "/simulation/shared-name", { body: { Application: "cstr" } });
  t.is(
    ((await (await alice.call("GET", "/simulation/shared-name")).json()) as { Application: string })
      .Application,
    "fake",
  );
  t.is(
    ((await (await bob.call("GET", "/simulation/shared-name")).json()) as { Application: string })
      .Application,
    "cstr",
  );
});

test("an admin's plan route cannot be used by a normal user on anyone", async (t) => {
  const alice = await newUser();
  const mallory = await newUser();
  const response = await mallory.call("PUT", `/user/${alice.username}/plan`, { body: { Plan: "premium" } });
  t.is(response.status, 403);
  t.is(((await (await alice.call("GET", "/user")).json()) as { Plan: string }).Plan, "free");
});
