/**
 * The success shapes of DESIGN section 2, route by route, through the local gateway.
 */
import test from "ava";
import { newUser, putToPresignedUrl, stopAll, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("GET /application lists the applications the worker pools accept", async (t) => {
  const user = await newUser();
  const response = await user.call("GET", "/application");
  t.is(response.status, 200);
  t.is(response.headers.get("access-control-allow-origin"), "*");
  const apps = (await response.json()) as { Name: string; Inputs: string[] }[];
  t.deepEqual(
    apps.find((app) => app.Name === "foqus"),
    { Name: "foqus", Inputs: ["flowsheet"] },
  );
  t.truthy(apps.find((app) => app.Name === "fake"));
});

test("a session is created as a JSON string and listed", async (t) => {
  const user = await newUser();
  const created = await user.call("POST", "/session");
  t.is(created.status, 200);
  const text = await created.text();
  t.regex(text, /^"[0-9a-f-]{36}"$/);
  const sid = JSON.parse(text) as string;
  t.regex(sid, UUID);
  const list = (await (await user.call("GET", "/session")).json()) as string[];
  t.deepEqual(list, [sid]);
  t.deepEqual(await (await user.call("GET", `/session/${sid}`)).json(), []);
});

test("simulations are created, listed, read and deleted", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  const put = await user.call("PUT", `/simulation/${name}`, {
    body: { Application: "fake", StagedInputs: [], Name: name },
  });
  t.is(put.status, 200);
  t.deepEqual(await put.json(), { Name: name, Application: "fake", StagedInputs: [] });
  t.deepEqual(await (await user.call("GET", "/simulation")).json(), [
    { Name: name, Application: "fake", StagedInputs: [] },
  ]);
  t.deepEqual(await (await user.call("GET", `/simulation/${name}`)).json(), {
    Name: name,
    Application: "fake",
    StagedInputs: [],
  });
  const deleted = await user.call("DELETE", `/simulation/${name}`);
  t.is(deleted.status, 200);
  t.is(((await deleted.json()) as { Name: string }).Name, name);
  t.is((await user.call("GET", `/simulation/${name}`)).status, 404);
});

test("a staged input uploaded directly reads back byte for byte", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const content = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
  const put = await user.call("PUT", `/simulation/${name}/input/models/model.bin`, {
    raw: content,
    headers: { "content-type": "application/octet-stream" },
  });
  t.is(put.status, 200);
  t.deepEqual(await put.json(), { Name: name, Application: "fake", StagedInputs: ["models/model.bin"] });
  const get = await user.call("GET", `/simulation/${name}/input/models/model.bin`);
  t.is(get.status, 200);
  t.deepEqual(Buffer.from(await get.arrayBuffer()), content);
});

test("presigned URLs upload and download through S3 (302)", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const upload = await user.call("POST", `/simulation/${name}/input/big.json?method=putObject`);
  t.is(upload.status, 302);
  const putUrl = upload.headers.get("location")!;
  t.regex(putUrl, /X-Amz-Signature=/);
  t.false(putUrl.includes("x-amz-checksum-crc32"));
  const stored = await fetch(putUrl, {
    method: "PUT",
    body: '{"big":true}',
    headers: { "content-type": "application/json" },
  });
  t.is(stored.status, 200);
  const download = await user.call("POST", `/simulation/${name}/input/big.json?method=getObject`);
  t.is(download.status, 302);
  t.is(await (await fetch(download.headers.get("location")!)).text(), '{"big":true}');
  const sim = (await (await user.call("GET", `/simulation/${name}`)).json()) as { StagedInputs: string[] };
  t.deepEqual(sim.StagedInputs, ["big.json"]);
});

test("PUT …/input?SignedUrl=True with an empty body answers 302 to an upload the turbine client can use", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const response = await user.call("PUT", `/simulation/${name}/input/session.foqus?SignedUrl=True`);
  t.is(response.status, 302);
  // The turbine client PUTs with an empty Content-Type header.
  t.is(await putToPresignedUrl(response.headers.get("location"), "flowsheet"), 200);
  t.is(await (await user.call("GET", `/simulation/${name}/input/session.foqus`)).text(), "flowsheet");
});

test("appended jobs come back in request order and list with every field", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  const jobs = Array.from({ length: 30 }, (_, i) => ({
    Simulation: name,
    Input: { x: i, tiny: -2.75e-145 },
    Visible: false,
  }));
  const append = await user.call("POST", `/session/${sid}`, {
    body: jobs,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
  t.is(append.status, 200);
  const ids = (await append.json()) as string[];
  t.is(ids.length, 30);
  for (const id of ids) t.regex(id, UUID);
  const listed = (await (await user.call("GET", `/session/${sid}`)).json()) as Record<string, unknown>[];
  t.deepEqual(
    listed.map((job) => job.Id),
    ids,
  );
  const first = listed[0]!;
  t.deepEqual(Object.keys(first).sort(), [
    "Application",
    "ConsumerId",
    "Create",
    "Finished",
    "Id",
    "Initialize",
    "Input",
    "Message",
    "Output",
    "Reset",
    "Running",
    "Session",
    "Setup",
    "Simulation",
    "State",
    "Submit",
  ]);
  t.deepEqual(first.Input, { x: 0, tiny: -2.75e-145 });
  t.is(first.State, "create");
  t.is(first.Session, sid);
  t.is(first.Application, "fake");
  t.regex(first.Create as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test("the older Inputs field and an empty Input are accepted", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  const response = await user.call("POST", `/session/${sid}`, {
    body: [
      { Simulation: name, Inputs: { a: 1 } },
      { Simulation: name, Input: {} },
    ],
  });
  t.is(response.status, 200);
  const listed = (await (await user.call("GET", `/session/${sid}`)).json()) as { Input: unknown }[];
  t.deepEqual(
    listed.map((job) => job.Input),
    [{ a: 1 }, {}],
  );
});

test("start submits the created jobs once; stop and kill answer the session id, delete the jobs deleted", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  const ids = (await (
    await user.call("POST", `/session/${sid}`, { body: [{ Simulation: name }, { Simulation: name }] })
  ).json()) as string[];
  const started = (await (
    await user.call("POST", `/session/${sid}/start`, { headers: { "content-type": "application/json" } })
  ).json()) as string[];
  t.deepEqual([...started].sort(), [...ids].sort());
  t.deepEqual(await (await user.call("POST", `/session/${sid}/start`)).json(), []);
  const states = (await (await user.call("GET", `/session/${sid}`)).json()) as {
    State: string;
    Submit: string;
  }[];
  t.deepEqual(
    states.map((job) => job.State),
    ["submit", "submit"],
  );
  t.truthy(states[0]?.Submit);
  t.deepEqual(await (await user.call("POST", `/session/${sid}/stop`)).json(), sid);
  const paused = (await (await user.call("GET", `/session/${sid}`)).json()) as { State: string }[];
  t.deepEqual(
    paused.map((job) => job.State),
    ["pause", "pause"],
  );
  t.deepEqual(
    [...((await (await user.call("POST", `/session/${sid}/start`)).json()) as string[])].sort(),
    [...ids].sort(),
  );
  t.deepEqual(await (await user.call("POST", `/session/${sid}/kill`)).json(), sid);
  // A bare number: turbine_session_delete prints int(body).
  t.is(await (await user.call("DELETE", `/session/${sid}`)).text(), "2");
  t.is((await user.call("GET", `/session/${sid}`)).status, 404);
});

test("closing a result page before any job finished answers a bare 0", async (t) => {
  const user = await newUser();
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  const response = await user.call("POST", `/session/${sid}/result/00000000-0000-0000-0000-000000000000`);
  t.is(response.status, 200);
  t.is(await response.text(), "0");
  const missing = await user.call(
    "GET",
    `/session/${sid}/result/00000000-0000-0000-0000-000000000000/1?rpp=2000`,
  );
  t.is(missing.status, 404);
  t.is(((await missing.json()) as { error: string }).error, "PageNotFound");
});

test("GET /user shows the caller; only admins change plans", async (t) => {
  const user = await newUser();
  t.deepEqual(await (await user.call("GET", "/user")).json(), {
    Name: user.username,
    Plan: "free",
    Roles: [],
  });
  const denied = await user.call("PUT", `/user/${user.username}/plan`, { body: { Plan: "premium" } });
  t.is(denied.status, 403);
  const admin = await newUser({ admin: true });
  const changed = await admin.call("PUT", `/user/${user.username}/plan`, { body: { Plan: "premium" } });
  t.is(changed.status, 200);
  t.deepEqual(await changed.json(), { Name: user.username, Plan: "premium" });
  t.is(((await (await user.call("GET", "/user")).json()) as { Plan: string }).Plan, "premium");
});

test("FOQUS's trailing and doubled slashes and stray query parameters still reach their routes", async (t) => {
  const user = await newUser();
  const created = await user.call("POST", "/session/");
  t.is(created.status, 200);
  const sid = (await created.json()) as string;
  t.deepEqual(
    await (await user.call("GET", "/session/?headers=Content-Type&verbose=1&page=1&rpp=100")).json(),
    [sid],
  );
  const name = uniqueName("sim");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "fake" } });
  const file = await user.call("PUT", `/simulation//${name}/input/configuration`, {
    raw: "x",
    headers: { "content-type": "text/plain" },
  });
  t.is(file.status, 200);
  t.is((await user.call("GET", "/application/")).status, 200);
});

test("legacy result routes answer 200", async (t) => {
  const user = await newUser();
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  const gen = (await (await user.call("POST", `/session/${sid}/result`)).json()) as string;
  t.regex(gen, UUID);
  const deleted = await user.call("DELETE", `/session/${sid}/result/${gen}`);
  t.is(deleted.status, 200);
});
