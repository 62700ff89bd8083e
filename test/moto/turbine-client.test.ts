/**
 * The FOQUS turbine client's own requests, byte for byte as docs/turbine-client.md records them
 * (trailing slashes, empty Content-Type headers, empty JSON-typed bodies, stray query
 * parameters), from a brand-new user's first call to a started session: no client change needed.
 */
import test from "ava";
import { api, newUser, putToPresignedUrl, stopAll, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

test("a new FOQUS user creates a simulation, uploads its files, appends, starts and lists jobs", async (t) => {
  const user = await newUser();
  const { url } = await api();
  const auth = {
    authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`,
  };
  const call = (
    method: string,
    path: string,
    init: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...auth, ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: "manual",
    });
  const name = uniqueName("zzfoqus_flowsheet");

  // Applications, read by Name.
  const apps = (await (await call("GET", "/application/")).json()) as { Name: string }[];
  t.true(apps.some((app) => app.Name === "foqus"));

  // The simulation list (with the SignedUrl parameter the remote config adds everywhere).
  const list = await call("GET", "/simulation/?SignedUrl=True");
  t.is(list.status, 200);
  t.deepEqual(await list.json(), []);

  // PUT the simulation; the body comes back as JSON.
  const put = await call("PUT", `/simulation/${name}`, {
    body: JSON.stringify({ Application: "foqus", StagedInputs: [], Name: name }),
    headers: { "content-type": "application/json" },
  });
  t.is(put.status, 200);
  t.is(((await put.json()) as { Name: string }).Name, name);

  // The configuration: raw bytes with an empty Content-Type, no query.
  const session = JSON.stringify({ Type: "FOQUS_Session", flowsheet: { nodes: {} } });
  const configuration = await call("PUT", `/simulation/${name}/input/configuration`, {
    body: session,
    headers: { "content-type": "" },
  });
  t.is(configuration.status, 200);

  // A model file: empty PUT with SignedUrl=True must answer 302, then a PUT to S3 with an empty Content-Type.
  const signed = await call("PUT", `/simulation/${name}/input/BFB.acmf?SignedUrl=True`, { body: "" });
  t.is(signed.status, 302);
  t.is(await putToPresignedUrl(signed.headers.get("location"), "model bytes"), 200);
  t.is(await (await call("GET", `/simulation/${name}/input/configuration`)).text(), session);
  t.is(await (await call("GET", `/simulation/${name}/input/BFB.acmf`)).text(), "model bytes");

  // Create a session: the body is exactly a quoted uuid, no trailing newline.
  const created = await call("POST", "/session/", { body: "" });
  const raw = await created.text();
  t.regex(raw, /^"[0-9a-f-]{36}"$/);
  const sid = raw.replace(/"/g, "");
  t.true(((await (await call("GET", "/session/?page=0&rpp=1000")).json()) as string[]).includes(sid));

  // Append 20 jobs the way FOQUS does, then start with an empty body typed as JSON.
  const jobs = Array.from({ length: 20 }, (_, i) => ({
    Simulation: name,
    Input: { flash: { T: 300 + i, P: 101325 } },
    Reset: false,
  }));
  const appended = await call("POST", `/session/${sid}`, {
    body: Buffer.from(JSON.stringify(jobs), "utf8"),
    headers: { "content-type": "application/json; charset=utf-8" },
  });
  t.is(appended.status, 200);
  const ids = (await appended.json()) as string[];
  t.is(ids.length, 20);
  const started = await call("POST", `/session/${sid}/start`, {
    body: "",
    headers: { "content-type": "application/json; charset=utf-8" },
  });
  t.is(started.status, 200);
  t.deepEqual([...((await started.json()) as string[])].sort(), [...ids].sort());

  // Status listing, and the result poll FOQUS makes (int() of the body).
  const status = (await (await call("GET", `/session/${sid}`)).json()) as {
    Id: string;
    State: string;
    Input: unknown;
  }[];
  t.deepEqual(
    status.map((job) => job.Id),
    ids,
  );
  t.true(status.every((job) => job.State === "submit"));
  t.deepEqual(status[3]?.Input, { flash: { T: 303, P: 101325 } });
  const page = await call("POST", `/session/${sid}/result/00000000-0000-0000-0000-000000000000`);
  t.is(Number.parseInt(await page.text(), 10), 0);

  // Kill (empty body, no Content-Type) and delete the simulation with the SignedUrl parameter.
  t.is((await call("POST", `/session/${sid}/kill`, { body: "" })).status, 200);
  t.is((await call("DELETE", `/simulation/${name}?SignedUrl=True`)).status, 200);
});

test("application names are matched without regard to case, as upstream lower-cased them", async (t) => {
  const user = await newUser();
  const name = uniqueName("sim");
  const put = await user.call("PUT", `/simulation/${name}`, { body: { Application: "aspenplus" } });
  t.is(put.status, 200);
  t.is(((await put.json()) as { Application: string }).Application, "AspenPlus");
});
