/**
 * Every error the API promises: status, JSON {error, message} with CORS, and nothing changed.
 */
import test from "ava";
import { MAX_DIRECT_INPUT_BYTES } from "../../core/limits.ts";
import { api, newUser, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

async function expectError(
  t: import("ava").ExecutionContext,
  response: Response,
  status: number,
  code: string,
  field?: string,
): Promise<string> {
  t.is(response.status, status);
  t.is(response.headers.get("access-control-allow-origin"), "*");
  const body = (await response.json()) as { error: string; message: string };
  t.is(body.error, code);
  t.true(body.message.length > 20, "the message explains what to do");
  if (field) t.true(body.message.includes(field), `the message names ${field}: ${body.message}`);
  return body.message;
}

async function sessionWithSimulation(user: TestUser): Promise<{ sid: string; sim: string }> {
  const sim = uniqueName("sim");
  await user.call("PUT", `/simulation/${sim}`, { body: { Application: "fake" } });
  const sid = (await (await user.call("POST", "/session")).json()) as string;
  return { sid, sim };
}

async function jobCount(user: TestUser, sid: string): Promise<number> {
  return ((await (await user.call("GET", `/session/${sid}`)).json()) as unknown[]).length;
}

test("an unknown route answers 404 and a wrong method 405, as JSON", async (t) => {
  const user = await newUser();
  await expectError(t, await user.call("GET", "/nothing/here"), 404, "RouteNotFound");
  const wrong = await user.call("PATCH", "/session");
  t.regex(wrong.headers.get("allow") ?? "", /GET/);
  await expectError(t, wrong, 405, "MethodNotAllowed");
});

test("a request without credentials is refused before any handler runs", async (t) => {
  const { url } = await api();
  const response = await fetch(`${url}/session`);
  t.is(response.status, 401);
});

test("a wrong password answers 401 with a JSON error that says what to fix", async (t) => {
  const user = await newUser();
  const { url } = await api();
  const response = await fetch(`${url}/session`, {
    headers: { authorization: `Basic ${Buffer.from(`${user.username}:wrong-password`).toString("base64")}` },
  });
  t.regex(response.headers.get("www-authenticate") ?? "", /^Basic/);
  await expectError(t, response, 401, "InvalidCredentials");
});

test("FOQUS's blanked credentials over http are explained", async (t) => {
  const { url } = await api();
  const response = await fetch(`${url}/session`, { headers: { authorization: "Basic Og==" } });
  const message = await expectError(t, response, 401, "InvalidCredentials");
  t.regex(message, /https/);
});

test("a body that is not JSON answers 400 and writes nothing", async (t) => {
  const user = await newUser();
  const { sid } = await sessionWithSimulation(user);
  await expectError(
    t,
    await user.call("POST", `/session/${sid}`, { body: "[{not json" }),
    400,
    "InvalidJson",
  );
  t.is(await jobCount(user, sid), 0);
});

test("a job of the wrong shape answers 400 naming the field, and nothing is written", async (t) => {
  const user = await newUser();
  const { sid, sim } = await sessionWithSimulation(user);
  const response = await user.call("POST", `/session/${sid}`, {
    body: [{ Simulation: sim }, { Simulation: sim, Input: "not an object" }],
  });
  await expectError(t, response, 400, "InvalidRequest", "[1].Input");
  await expectError(
    t,
    await user.call("POST", `/session/${sid}`, { body: { Simulation: sim } }),
    400,
    "InvalidRequest",
  );
  await expectError(
    t,
    await user.call("POST", `/session/${sid}`, { body: [{ Input: {} }] }),
    400,
    "InvalidRequest",
    "[0].Simulation",
  );
  t.is(await jobCount(user, sid), 0);
});

test("an unknown simulation or an application no pool runs answers 400", async (t) => {
  const user = await newUser();
  const { sid, sim } = await sessionWithSimulation(user);
  await expectError(
    t,
    await user.call("POST", `/session/${sid}`, {
      body: [{ Simulation: sim }, { Simulation: "no-such-sim" }],
    }),
    400,
    "UnknownSimulation",
    "[1].Simulation",
  );
  await expectError(
    t,
    await user.call("POST", `/session/${sid}`, { body: [{ Simulation: sim, Application: "Excel" }] }),
    400,
    "UnknownApplication",
  );
  await expectError(
    t,
    await user.call("PUT", `/simulation/${uniqueName("sim")}`, { body: { Application: "Excel" } }),
    400,
    "UnknownApplication",
  );
  t.is(await jobCount(user, sid), 0);
});

test("a session that does not exist answers 404 on every session route", async (t) => {
  const user = await newUser();
  const sid = "00000000-0000-4000-8000-000000000000";
  for (const [method, path] of [
    ["GET", `/session/${sid}`],
    ["POST", `/session/${sid}/start`],
    ["POST", `/session/${sid}/stop`],
    ["POST", `/session/${sid}/kill`],
    ["DELETE", `/session/${sid}`],
    ["POST", `/session/${sid}/result/00000000-0000-0000-0000-000000000000`],
  ] as const) {
    await expectError(t, await user.call(method, path), 404, "SessionNotFound");
  }
  await expectError(t, await user.call("POST", `/session/${sid}`, { body: [] }), 404, "SessionNotFound");
});

test("appending to a killed session answers 409 and writes nothing", async (t) => {
  const user = await newUser();
  const { sid, sim } = await sessionWithSimulation(user);
  await user.call("POST", `/session/${sid}/kill`);
  await expectError(
    t,
    await user.call("POST", `/session/${sid}`, { body: [{ Simulation: sim }] }),
    409,
    "SessionKilled",
  );
  await expectError(t, await user.call("POST", `/session/${sid}/start`), 409, "SessionKilled");
  t.is(await jobCount(user, sid), 0);
});

test("more than 1,000 jobs in one append answers 413", async (t) => {
  const user = await newUser();
  const { sid, sim } = await sessionWithSimulation(user);
  const jobs = Array.from({ length: 1001 }, () => ({ Simulation: sim }));
  const message = await expectError(
    t,
    await user.call("POST", `/session/${sid}`, { body: jobs }),
    413,
    "PayloadTooLarge",
  );
  t.regex(message, /1000/);
  t.is(await jobCount(user, sid), 0);
});

test("a body over the API's payload limit answers 413", async (t) => {
  const user = await newUser();
  const { sid, sim } = await sessionWithSimulation(user);
  const big = "x".repeat(7 * 1024 * 1024);
  const response = await user.call("POST", `/session/${sid}`, {
    body: [{ Simulation: sim, Input: { big } }],
  });
  t.is(response.status, 413);
  t.is(await jobCount(user, sid), 0);
});

test("a direct upload over the limit answers 413 and points to presigned URLs", async (t) => {
  const user = await newUser();
  const sim = uniqueName("sim");
  await user.call("PUT", `/simulation/${sim}`, { body: { Application: "fake" } });
  const response = await user.call("PUT", `/simulation/${sim}/input/huge.bin`, {
    // Over the direct-upload limit, yet inside Lambda's 6 MB payload once base64-encoded.
    raw: Buffer.alloc(MAX_DIRECT_INPUT_BYTES + 1000, 1),
    headers: { "content-type": "application/octet-stream" },
  });
  t.is(response.status, 413);
  const body = (await response.json()) as { message: string };
  t.regex(body.message, /method=putObject/);
});

test("bad simulation names, input paths and presign methods answer 400", async (t) => {
  const user = await newUser();
  const sim = uniqueName("sim");
  await user.call("PUT", `/simulation/${sim}`, { body: { Application: "fake" } });
  await expectError(
    t,
    await user.call("PUT", "/simulation/bad%20name!", { body: { Application: "fake" } }),
    400,
    "InvalidRequest",
  );
  await expectError(
    t,
    await user.call("PUT", `/simulation/${sim}`, { body: {} }),
    400,
    "InvalidRequest",
    "Application",
  );
  await expectError(
    t,
    await user.call("GET", `/simulation/${sim}/input/..%2F..%2Fetc`),
    400,
    "InvalidRequest",
  );
  await expectError(
    t,
    await user.call("POST", `/simulation/${sim}/input/a.txt?method=deleteObject`),
    400,
    "InvalidRequest",
  );
  await expectError(
    t,
    await user.call("GET", `/simulation/${sim}/input/never-uploaded.txt`),
    404,
    "InputNotFound",
  );
});

test("a foqus simulation's configuration must be a FOQUS session: anything else is 400 and nothing is stored", async (t) => {
  const user = await newUser();
  const name = uniqueName("zzfoqus_bad");
  await user.call("PUT", `/simulation/${name}`, { body: { Application: "foqus" } });
  for (const [body, why] of [
    ["not json at all", /not JSON/],
    [JSON.stringify({ Type: "SimSinter", model: {} }), /FOQUS_Session/],
  ] as const) {
    const response = await user.call("PUT", `/simulation/${name}/input/configuration`, {
      raw: body,
      headers: { "content-type": "" },
    });
    t.is(response.status, 400);
    const error = (await response.json()) as { error: string; message: string };
    t.is(error.error, "NotAFoqusSession");
    t.regex(error.message, why);
    t.regex(error.message, /session file/);
  }
  t.is((await user.call("GET", `/simulation/${name}/input/configuration`)).status, 404);
  t.deepEqual(
    ((await (await user.call("GET", `/simulation/${name}`)).json()) as { StagedInputs: string[] })
      .StagedInputs,
    [],
  );
  // A presigned upload could not be checked: refused, with the way that works.
  for (const path of [`configuration?SignedUrl=True`, "configuration?method=putObject"]) {
    const method = path.includes("method=") ? "POST" : "PUT";
    const response = await user.call(method, `/simulation/${name}/input/${path}`);
    t.is(response.status, 400, path);
    t.is(((await response.json()) as { error: string }).error, "PresignedConfigurationRefused");
  }
  // filetype is the other marker FOQUS writes; other applications' configurations are not checked.
  const ok = await user.call("PUT", `/simulation/${name}/input/configuration`, {
    raw: JSON.stringify({ filetype: "FOQUS_Session" }),
  });
  t.is(ok.status, 200);
  const other = uniqueName("sim");
  await user.call("PUT", `/simulation/${other}`, { body: { Application: "fake" } });
  t.is((await user.call("PUT", `/simulation/${other}/input/configuration`, { raw: "anything" })).status, 200);
});
