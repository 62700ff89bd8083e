/**
 * The routes the console and the CLI read a session through without listing all its jobs:
 * `GET /session/{sid}/summary` (counts per state) and `GET /session/{sid}/jobs` (one page, by
 * state), with the error format and owner isolation of every other route; and the console's
 * static files, served without credentials while every data route still demands them.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import type { JobPage, SessionSummary } from "../../client/api-client.ts";
import { CORS_HEADERS } from "../../handlers/http/respond.ts";
import { api, newUser, startUpdateProcessor, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

async function sessionWith(user: TestUser, jobs: number) {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  const ids: string[] = [];
  for (let first = 0; first < jobs; first += 1000) {
    const chunk = Array.from({ length: Math.min(1000, jobs - first) }, (_, i) => ({
      Simulation: sim,
      Input: { i: first + i },
    }));
    ids.push(...(await user.client.append(sid, chunk)));
  }
  return { sim, sid, ids };
}

/** Every job of a page sequence, following `Next` to the end. */
async function allPages(user: TestUser, sid: string, state?: string, limit = 100) {
  const seen: string[] = [];
  let pages = 0;
  for (let after: string | undefined; ; ) {
    const page: JobPage = await user.client.jobPage(sid, {
      ...(state ? { state: state as never } : {}),
      limit,
      ...(after ? { after } : {}),
    });
    pages++;
    assertPageSize(page, limit);
    seen.push(...page.Jobs.map((job) => job.Id));
    if (!page.Next) return { seen, pages };
    after = page.Next;
  }
}

function assertPageSize(page: JobPage, limit: number) {
  if (page.Jobs.length > limit)
    throw new Error(`a page of ${page.Jobs.length} jobs, over the limit ${limit}`);
}

test("the summary counts a session's jobs per state, and leaves its neighbours' out", async (t) => {
  const user = await newUser();
  const { sim, sid } = await sessionWith(user, 5);
  const neighbour = await sessionWith(user, 4);
  await user.client.start(sid);
  await user.client.stop(sid); // submit → pause
  await user.client.append(sid, [
    { Simulation: sim, Input: {} },
    { Simulation: sim, Input: {} },
  ]);

  const summary: SessionSummary = await user.client.sessionSummary(sid);

  t.is(summary.Session, sid);
  t.is(summary.State, "open");
  t.is(summary.Jobs, 7);
  t.is(summary.Finished, 0);
  t.like(summary.Counts, { pause: 5, create: 2, submit: 0, success: 0, error: 0 });
  t.deepEqual(Object.keys(summary.Counts).sort(), [
    "create",
    "error",
    "expired",
    "pause",
    "running",
    "setup",
    "submit",
    "success",
    "terminate",
  ]);
  t.like((await user.client.sessionSummary(neighbour.sid)).Counts, { create: 4, pause: 0 });

  // Kill publishes job.terminate for every unfinished job; the update processor ends them.
  await startUpdateProcessor();
  await user.client.kill(sid);
  let killed = await user.client.sessionSummary(sid);
  // The counts are read per state in parallel: a job that moves between two of those reads can
  // show in both, so the test waits for a snapshot that has settled, not only for the terminates.
  const settled = () =>
    killed.Counts.terminate === 7 && killed.Counts.pause === 0 && killed.Counts.create === 0;
  for (let poll = 0; !settled() && poll < 240; poll++) {
    await sleep(250);
    killed = await user.client.sessionSummary(sid);
  }
  t.is(killed.State, "killed");
  t.truthy(killed.Killed);
  t.like(killed.Counts, { terminate: 7, pause: 0, create: 0 });
  t.is(killed.Finished, 7);
});

test("the job pages visit every job exactly once, also filtered by state", async (t) => {
  const user = await newUser();
  const { sim, sid, ids } = await sessionWith(user, 250);
  await user.client.start(sid); // 250 submit
  const later = await user.client.append(
    sid,
    Array.from({ length: 30 }, (_, i) => ({ Simulation: sim, Input: { late: i } })),
  );

  const every = await allPages(user, sid, undefined, 100);
  t.is(every.seen.length, 280);
  t.deepEqual([...every.seen].sort(), [...ids, ...later].sort());
  t.true(every.pages >= 3);

  const created = await allPages(user, sid, "create", 7);
  t.deepEqual([...created.seen].sort(), [...later].sort());
  const submitted = await allPages(user, sid, "submit", 64);
  t.deepEqual([...submitted.seen].sort(), [...ids].sort());
  t.deepEqual((await allPages(user, sid, "success")).seen, []);

  const first = await user.client.jobPage(sid, { state: "create", limit: 3 });
  t.true(first.Jobs.every((job) => job.State === "create" && job.Session === sid));
  t.is(first.Jobs.length, 3);
  t.is(typeof first.Jobs[0]?.Input.late, "number");
});

test("bad parameters answer 400 with the API's error format and CORS headers", async (t) => {
  const user = await newUser();
  const { sid } = await sessionWith(user, 3);
  const other = await sessionWith(user, 3);
  const filtered = await user.client.jobPage(sid, { state: "create", limit: 1 });
  const unfiltered = await user.client.jobPage(sid, { limit: 1 });
  t.truthy(filtered.Next);
  t.truthy(unfiltered.Next);

  const cases: [string, string, string][] = [
    [`/session/${sid}/jobs?limit=0`, "InvalidRequest", "limit"],
    [`/session/${sid}/jobs?limit=501`, "InvalidRequest", "limit"],
    [`/session/${sid}/jobs?limit=ten`, "InvalidRequest", "limit"],
    [`/session/${sid}/jobs?state=done`, "InvalidRequest", "state"],
    [`/session/${sid}/jobs?after=not-a-cursor`, "InvalidCursor", "after"],
    // A cursor of another session, or of another filter, is refused, never followed.
    [`/session/${other.sid}/jobs?after=${unfiltered.Next}`, "InvalidCursor", "after"],
    [`/session/${sid}/jobs?after=${filtered.Next}`, "InvalidCursor", "after"],
    [`/session/${sid}/jobs?state=submit&after=${filtered.Next}`, "InvalidCursor", "after"],
  ];
  for (const [path, code, field] of cases) {
    const response = await user.call("GET", path);
    t.is(response.status, 400, path);
    t.is(response.headers.get("access-control-allow-origin"), CORS_HEADERS["access-control-allow-origin"]!);
    const body = (await response.json()) as { error: string; message: string };
    t.is(body.error, code, path);
    t.regex(body.message, new RegExp(field), path);
  }
});

test("another user's session answers 404 on both routes exactly like a missing one", async (t) => {
  const alice = await newUser();
  const mallory = await newUser();
  const { sid } = await sessionWith(alice, 2);
  const missing = randomUUID();
  for (const suffix of ["summary", "jobs", "jobs?state=create&limit=5"]) {
    const foreign = await mallory.call("GET", `/session/${sid}/${suffix}`);
    const absent = await mallory.call("GET", `/session/${missing}/${suffix}`);
    t.is(foreign.status, 404, suffix);
    t.is(absent.status, 404, suffix);
    const [a, b] = (await Promise.all([foreign.json(), absent.json()])) as {
      error: string;
      message: string;
    }[];
    t.is(a?.error, "SessionNotFound");
    t.is(a?.error, b?.error);
    t.is(a?.message.replace(sid, "<sid>"), b?.message.replace(missing, "<sid>"));
    t.is(foreign.headers.get("access-control-allow-origin"), "*");
  }
  t.is((await alice.client.sessionSummary(sid)).Jobs, 2);
});

test("the console's files are served without credentials; the data routes still need them", async (t) => {
  const { url } = await api();
  const page = await fetch(`${url}/console`);
  t.is(page.status, 200);
  t.regex(page.headers.get("content-type") ?? "", /^text\/html/);
  t.regex(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  t.regex(page.headers.get("content-security-policy") ?? "", /connect-src 'self'/);
  t.regex(await page.text(), /console\/console\.js/);

  const script = await fetch(`${url}/console/console.js`);
  t.is(script.status, 200);
  t.regex(script.headers.get("content-type") ?? "", /^text\/javascript/);
  t.regex(await script.text(), /credentials: "omit"/);
  const style = await fetch(`${url}/console/console.css`);
  t.regex(style.headers.get("content-type") ?? "", /^text\/css/);

  const missing = await fetch(`${url}/console/secrets.json`);
  t.is(missing.status, 404);
  t.is(missing.headers.get("access-control-allow-origin"), "*");
  t.is(((await missing.json()) as { error: string }).error, "AssetNotFound");

  for (const path of ["/session", `/session/${randomUUID()}/summary`, "/user"]) {
    t.is((await fetch(`${url}${path}`)).status, 401, path);
  }
});
