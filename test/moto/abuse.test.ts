/**
 * The abuse suite: every route of handlers/routes.json, sent malformed, oversized and hostile
 * input (bad JSON, wrong types, huge strings, deep nesting, unknown fields, path traversal,
 * bad percent-encoding, doubled slashes, bogus credentials of every shape, another user's ids),
 * answers its documented 4xx JSON error ({"error","message"} with the CORS headers) and writes
 * nothing: after every case the store is read back (and that reading is the next case's "before") (each user's item, sessions, jobs, result
 * items, simulations, staged files and output objects) and must equal what it was before.
 *
 * Requests go out through node:http with the path exactly as written: fetch would normalise
 * `..`, `%2e` and doubled slashes away before the API saw them. The cases run serially against
 * one fixture, so each before/after comparison sees only its own request.
 *
 * A case marked `failing` fails today because of a part of issue 9 that is fixed elsewhere; it
 * runs as test.failing, so it flips (and must lose the mark) when that fix lands.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import test, { type ExecutionContext } from "ava";
import { type AnyClient, useClientPlugin } from "../../core/aws/clients.ts";
import { queryAll } from "../../core/aws/dynamo-batch.ts";
import { s3Client } from "../../core/aws/s3-client.ts";
import { config } from "../../core/config.ts";
import { applyEvent } from "../../core/jobs/apply-event.ts";
import { listSessionJobs } from "../../core/jobs/job-store.ts";
import { MAX_DIRECT_INPUT_BYTES } from "../../core/limits.ts";
import { findSession, listSessionIds } from "../../core/sessions/session-store.ts";
import { listSimulations } from "../../core/simulations/simulation-store.ts";
import { getUser } from "../../core/users/user-store.ts";
import { ROUTES } from "../../handlers/route-table.ts";
import routesFile from "../../handlers/routes.json" with { type: "json" };
import { makeEvent } from "../helpers/factories.ts";
import { api, newUser, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

const GEN = "00000000-0000-0000-0000-000000000000";
const MISSING_SID = "00000000-0000-4000-8000-000000000000";

// ── raw requests ─────────────────────────────────────────────────────────────────────────────

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface RawRequest {
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One request with the path sent byte for byte as given. */
async function send(method: string, path: string, options: RawRequest = {}): Promise<RawResponse> {
  const { url } = await api();
  const { hostname, port } = new URL(url);
  const body = options.body;
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        headers: {
          ...options.headers,
          ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const basic = (credentials: string | Buffer): string =>
  `Basic ${Buffer.from(credentials).toString("base64")}`;

const authOf = (user: TestUser): string => basic(`${user.username}:${user.password}`);

/** `request` with the given Authorization header added to its own headers. */
function withAuthorization(authorization: string, request: RawRequest = {}): RawRequest {
  return { ...request, headers: { authorization, ...request.headers } };
}

/** JSON with `content-type: application/json`, as the turbine client sends it. */
function jsonBody(body: unknown): RawRequest {
  return {
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  };
}

// ── the store, read back ─────────────────────────────────────────────────────────────────────

async function objectsUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) keys.push(`${object.Key} ${object.ETag} ${object.Size}`);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

/** Everything a user owns, as stored. */
async function storeOf(username: string): Promise<unknown> {
  const sessionIds = (await listSessionIds(username)).sort();
  const sessions = await Promise.all(
    sessionIds.map(async (sid) => ({
      record: await findSession(username, sid),
      jobs: (await listSessionJobs(sid)).sort((a, b) => a.JobId.localeCompare(b.JobId)),
      results: await queryAll({
        TableName: config.resultsTable,
        KeyConditionExpression: "SessionId = :sid",
        ExpressionAttributeValues: { ":sid": sid },
        ConsistentRead: true,
      }),
    })),
  );
  return {
    user: await getUser(username),
    sessions,
    simulations: (await listSimulations(username)).sort((a, b) => a.Name.localeCompare(b.Name)),
    stagedFiles: await objectsUnder(config.simulationsBucket, `${username}/`),
    outputs: await objectsUnder(config.resultsBucket, `outputs/${username}/`),
  };
}

// ── the fixture: two users with things to lose, and an admin ────────────────────────────────

interface Fixture {
  victim: TestUser;
  mallory: TestUser;
  admin: TestUser;
  /** The victim's simulation (with a staged file), sessions and jobs. */
  sim: string;
  sid: string;
  emptySid: string;
  jobIds: string[];
  /** Mallory's own simulation and session, to aim the victim's ids through. */
  mallorySim: string;
  mallorySid: string;
}

async function makeFixture(): Promise<Fixture> {
  const [victim, mallory, admin] = await Promise.all([newUser(), newUser(), newUser({ admin: true })]);
  const sim = uniqueName("sim");
  await victim.client.putSimulation(sim, "fake");
  await victim.client.putInput(sim, "data/input.txt", "victim's data", "text/plain");
  const sid = await victim.client.request<string>("POST", "/session");
  const emptySid = await victim.client.request<string>("POST", "/session");
  const jobIds = await victim.client.request<string[]>("POST", `/session/${sid}`, {
    body: [
      { Simulation: sim, Input: { x: 1 } },
      { Simulation: sim, Input: { x: 2 } },
    ],
  });
  // The first job finished and its page closed and read, so page 1 exists and "0x1" could hit it.
  for (const event of ["job.setup", "job.running", "job.success"] as const) {
    await applyEvent(
      makeEvent(event, {
        username: victim.username,
        session: sid,
        job: jobIds[0]!,
        application: "fake",
        consumer: "w1",
        ...(event === "job.success" ? { outputJson: '{"y":1}' } : {}),
      }),
    );
  }
  if ((await victim.client.request<number>("POST", `/session/${sid}/result/${GEN}`)) !== 1)
    throw new Error("the fixture's result page was not closed");
  await victim.client.request("GET", `/session/${sid}/result/${GEN}/1`);
  const mallorySim = uniqueName("sim");
  await mallory.client.putSimulation(mallorySim, "fake");
  const mallorySid = await mallory.client.request<string>("POST", "/session");
  return { victim, mallory, admin, sim, sid, emptySid, jobIds, mallorySim, mallorySid };
}

let fixture: Promise<Fixture> | undefined;
const theFixture = (): Promise<Fixture> => {
  fixture ??= makeFixture();
  return fixture;
};

async function storeOfAll(f: Fixture): Promise<unknown> {
  const [victim, mallory, admin] = await Promise.all(
    [f.victim, f.mallory, f.admin].map((user) => storeOf(user.username)),
  );
  return { victim, mallory, admin };
}

/**
 * The store as the previous case left it: the cases run serially, so one case's "after" is the
 * next one's "before", read once instead of twice.
 */
let storeAfterLastCase: unknown;

// ── assertions ───────────────────────────────────────────────────────────────────────────────

/** The documented error shape: the status, JSON {"error","message"} and the CORS headers. */
function assertJsonError(t: ExecutionContext, response: RawResponse, status: number, code?: string): void {
  t.is(response.status, status, `status (body: ${response.text.slice(0, 300)})`);
  t.is(response.headers["access-control-allow-origin"], "*", "CORS headers");
  t.regex(String(response.headers["content-type"]), /^application\/json/);
  let body: { error?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(response.text) as typeof body;
  } catch {
    t.fail(`the body is not JSON: ${response.text.slice(0, 200)}`);
  }
  t.is(typeof body.error, "string", "error code");
  t.is(typeof body.message, "string", "message");
  t.true(String(body.message).length > 20, "the message says what to fix");
  if (code) t.is(body.error, code);
}

/** API Gateway's own answer: the status, `{"message"}` and the CORS headers. */
function assertGatewayError(t: ExecutionContext, response: RawResponse, status: number): void {
  t.is(response.status, status, `status (body: ${response.text.slice(0, 300)})`);
  t.is(response.headers["access-control-allow-origin"], "*", "CORS headers");
  t.is(typeof (JSON.parse(response.text) as { message?: unknown }).message, "string");
}

// ── the cases ────────────────────────────────────────────────────────────────────────────────

type Caller = "victim" | "mallory" | "admin";

interface Case {
  /** The route key of handlers/routes.json this case aims at. */
  route: string;
  name: string;
  method: string;
  path: (f: Fixture) => string;
  as?: Caller;
  request?: (f: Fixture) => RawRequest;
  status: 400 | 401 | 403 | 404 | 405 | 409 | 413;
  code?: string;
  /**
   * Answered by API Gateway itself (a body over Lambda's 6 MB payload), as `{"message"}` with
   * the CORS headers: no function runs, so there is no error code.
   */
  byGateway?: true;
  /** The issue 9 bullet whose fix (done elsewhere) makes this case pass: runs as test.failing. */
  failing?: string;
}

const deepArray = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const huge = (n: number): string => "x".repeat(n);
const overBodyLimit = (): string =>
  JSON.stringify([{ Simulation: "s", Input: { big: huge(7 * 1024 * 1024) } }]);

const BAD_ENCODINGS = ["%zz", "%", "%E0%A4%A", "%C0%AF", "%ff"];

/** Routes API Gateway serves without the authorizer (routes.json `unauthenticated`): static files. */
const UNAUTHENTICATED = new Set<string>(
  (routesFile as { unauthenticated?: { routes?: string[] } }).unauthenticated?.routes ?? [],
);

const hasRoute = (routeKey: string): boolean => ROUTES.some((route) => route.routeKey === routeKey);

/** The cases of routes that exist in this checkout (routes are added while these run elsewhere). */
const ifRoute = (routeKey: string, routeCases: Case[]): Case[] => (hasRoute(routeKey) ? routeCases : []);

/** A route's template with the fixture's ids filled in (the victim's, unless overridden). */
function concretePath(template: string, f: Fixture, overrides: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    sid: f.sid,
    gen: GEN,
    page: "1",
    name: template.startsWith("/user") ? f.victim.username : f.sim,
    "path+": "data/input.txt",
    id: f.jobIds[0] ?? "",
  };
  for (const [name, value] of Object.entries(overrides)) values[name === "path" ? "path+" : name] = value;
  return template.replace(/\{([\w+]+)\}/g, (_, name: string) => values[name] ?? "");
}

const cases: Case[] = [
  // GET /application, GET /user, GET /session, GET /simulation take no input: methods and paths.
  {
    route: "GET /application",
    name: "another method",
    method: "DELETE",
    path: () => "/application",
    status: 405,
    code: "MethodNotAllowed",
  },
  {
    route: "GET /application",
    name: "a path below it",
    method: "GET",
    path: () => "/application/../user",
    status: 404,
    code: "RouteNotFound",
  },
  {
    route: "GET /user",
    name: "another method",
    method: "POST",
    path: () => "/user",
    request: () => jsonBody({ Plan: "premium" }),
    status: 405,
    code: "MethodNotAllowed",
  },
  {
    route: "GET /session",
    name: "another method",
    method: "PATCH",
    path: () => "/session",
    status: 405,
    code: "MethodNotAllowed",
  },
  {
    route: "GET /simulation",
    name: "another method",
    method: "DELETE",
    path: () => "/simulation",
    status: 405,
    code: "MethodNotAllowed",
  },

  // PUT /user/{name}/plan
  {
    route: "PUT /user/{name}/plan",
    name: "not an admin",
    method: "PUT",
    path: (f) => `/user/${f.mallory.username}/plan`,
    as: "mallory",
    request: () => jsonBody({ Plan: "premium" }),
    status: 403,
    code: "Forbidden",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "not an admin, on another user",
    method: "PUT",
    path: (f) => `/user/${f.victim.username}/plan`,
    as: "mallory",
    request: () => jsonBody({ Plan: "premium" }),
    status: 403,
    code: "Forbidden",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "bad JSON",
    method: "PUT",
    path: (f) => `/user/${f.victim.username}/plan`,
    as: "admin",
    request: () => jsonBody('{"Plan": "premium"'),
    status: 400,
    code: "InvalidJson",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "a plan of the wrong type",
    method: "PUT",
    path: (f) => `/user/${f.victim.username}/plan`,
    as: "admin",
    request: () => jsonBody({ Plan: 1 }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "an unknown plan",
    method: "PUT",
    path: (f) => `/user/${f.victim.username}/plan`,
    as: "admin",
    request: () => jsonBody({ Plan: "gold", Roles: ["admin"] }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "a body nested 100,000 deep",
    method: "PUT",
    path: (f) => `/user/${f.victim.username}/plan`,
    as: "admin",
    request: () => jsonBody(deepArray(100_000)),
    status: 400,
  },
  {
    route: "PUT /user/{name}/plan",
    name: "a user that does not exist",
    method: "PUT",
    path: () => `/user/${uniqueName("nobody")}/plan`,
    as: "admin",
    request: () => jsonBody({ Plan: "premium" }),
    status: 404,
    code: "UserNotFound",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "a user name over DynamoDB's key limit",
    method: "PUT",
    path: () => `/user/${huge(3000)}/plan`,
    as: "admin",
    request: () => jsonBody({ Plan: "premium" }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /user/{name}/plan",
    name: "a traversal in the name",
    method: "PUT",
    path: () => "/user/..%2F..%2Fadmin/plan",
    as: "admin",
    request: () => jsonBody({ Plan: "premium" }),
    status: 400,
  },
  {
    route: "PUT /user/{name}/plan",
    name: "a body over the payload limit",
    method: "PUT",
    path: (f) => `/user/${f.victim.username}/plan`,
    as: "admin",
    request: () => jsonBody(overBodyLimit()),
    status: 413,
    byGateway: true,
  },

  // POST /session
  {
    route: "POST /session",
    name: "a body over the payload limit",
    method: "POST",
    path: () => "/session",
    request: () => jsonBody(overBodyLimit()),
    status: 413,
    byGateway: true,
  },

  // GET /session/{sid}
  {
    route: "GET /session/{sid}",
    name: "another user's session",
    method: "GET",
    path: (f) => `/session/${f.sid}`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "GET /session/{sid}",
    name: "a session id over DynamoDB's key limit",
    method: "GET",
    path: () => `/session/${huge(3000)}`,
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "GET /session/{sid}",
    name: "a traversal in the id",
    method: "GET",
    path: (f) => `/session/..%2F${f.sid}`,
    status: 404,
    code: "SessionNotFound",
  },

  // POST /session/{sid}: the append
  {
    route: "POST /session/{sid}",
    name: "bad JSON",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: () => jsonBody("[{not json"),
    status: 400,
    code: "InvalidJson",
  },
  {
    route: "POST /session/{sid}",
    name: "an empty body",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: () => jsonBody(""),
    status: 400,
    code: "InvalidJson",
  },
  {
    route: "POST /session/{sid}",
    name: "an object, not an array",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody({ Simulation: f.sim }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "POST /session/{sid}",
    name: "wrong types in a later job",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody([{ Simulation: f.sim }, { Simulation: f.sim, Input: [1, 2], Reset: "yes" }]),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "POST /session/{sid}",
    name: "a simulation name of 100,000 characters",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: () => jsonBody([{ Simulation: huge(100_000) }]),
    status: 400,
  },
  {
    route: "POST /session/{sid}",
    name: "another user's simulation",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody([{ Simulation: f.mallorySim }]),
    status: 400,
    code: "UnknownSimulation",
  },
  {
    route: "POST /session/{sid}",
    name: "an application no pool runs",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody([{ Simulation: f.sim, Application: "../../bin/sh" }]),
    status: 400,
    code: "UnknownApplication",
  },
  {
    route: "POST /session/{sid}",
    name: "a hostile job Id",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody([{ Simulation: f.sim, Id: "../../other-session/job" }]),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "POST /session/{sid}",
    name: "a malformed Idempotency-Key",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => ({
      ...jsonBody([{ Simulation: f.sim }]),
      headers: { "content-type": "application/json", "idempotency-key": huge(500) },
    }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "POST /session/{sid}",
    name: "into another user's session",
    method: "POST",
    path: (f) => `/session/${f.sid}`,
    as: "mallory",
    request: (f) => jsonBody([{ Simulation: f.mallorySim }]),
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}",
    name: "more than 1,000 jobs",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody(Array.from({ length: 1001 }, () => ({ Simulation: f.sim }))),
    status: 413,
    code: "PayloadTooLarge",
  },
  {
    route: "POST /session/{sid}",
    name: "a body over the payload limit",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: () => jsonBody(overBodyLimit()),
    status: 413,
    byGateway: true,
  },
  {
    route: "POST /session/{sid}",
    name: "an Input nested 100,000 deep",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody(`[{"Simulation":"${f.sim}","Input":{"x":${deepArray(100_000)}}}]`),
    status: 400,
  },
  {
    route: "POST /session/{sid}",
    name: "an Input nested 10,000 deep in objects",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody(`[{"Simulation":"${f.sim}","Input":${deepObject(10_000)}}]`),
    status: 400,
  },
  {
    route: "POST /session/{sid}",
    name: "a number JSON cannot hold (1e400)",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody(`[{"Simulation":"${f.sim}","Input":{"x":1e400}}]`),
    status: 400,
  },
  {
    route: "POST /session/{sid}",
    name: "a __proto__ key",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody(`[{"Simulation":"${f.sim}","Input":{"__proto__":{"polluted":true}}}]`),
    status: 400,
  },
  {
    route: "POST /session/{sid}",
    name: "an Input of 150,000 CJK characters (450 KB of UTF-8)",
    method: "POST",
    path: (f) => `/session/${f.emptySid}`,
    request: (f) => jsonBody([{ Simulation: f.sim, Input: { text: "漢".repeat(150_000) } }]),
    status: 400,
  },

  // DELETE /session/{sid}, start, stop, kill
  {
    route: "DELETE /session/{sid}",
    name: "another user's session",
    method: "DELETE",
    path: (f) => `/session/${f.sid}`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "DELETE /session/{sid}",
    name: "a session id over DynamoDB's key limit",
    method: "DELETE",
    path: () => `/session/${huge(3000)}`,
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}/start",
    name: "another user's session",
    method: "POST",
    path: (f) => `/session/${f.sid}/start`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}/start",
    name: "a session id over DynamoDB's key limit",
    method: "POST",
    path: () => `/session/${huge(3000)}/start`,
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}/stop",
    name: "another user's session",
    method: "POST",
    path: (f) => `/session/${f.sid}/stop`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}/kill",
    name: "another user's session",
    method: "POST",
    path: (f) => `/session/${f.sid}/kill`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}/kill",
    name: "a session that does not exist",
    method: "POST",
    path: () => `/session/${MISSING_SID}/kill`,
    status: 404,
    code: "SessionNotFound",
  },

  // Result pages
  {
    route: "POST /session/{sid}/result/{gen}",
    name: "another user's session",
    method: "POST",
    path: (f) => `/session/${f.sid}/result/${GEN}`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "POST /session/{sid}/result/{gen}",
    name: "a generator of 3,000 characters",
    method: "POST",
    path: (f) => `/session/${f.sid}/result/${huge(3000)}`,
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "POST /session/{sid}/result/{gen}",
    name: "a hostile generator",
    method: "POST",
    path: (f) => `/session/${f.sid}/result/..%2F..%2FSEQ`,
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "GET /session/{sid}/result/{gen}/{page}",
    name: "another user's session",
    method: "GET",
    path: (f) => `/session/${f.sid}/result/${GEN}/1`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  ...["0x1", "1e0", "%201", "1%20", "+1", "1.0", "-1", "0", "Infinity", "99999999999999999999999"].map(
    (page): Case => ({
      route: "GET /session/{sid}/result/{gen}/{page}",
      name: `page "${decodeURIComponent(page)}"`,
      method: "GET",
      path: (f) => `/session/${f.sid}/result/${GEN}/${page}`,
      status: 404,
      code: "PageNotFound",
    }),
  ),
  {
    route: "POST /session/{sid}/result",
    name: "another user's session",
    method: "POST",
    path: (f) => `/session/${f.sid}/result`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "DELETE /session/{sid}/result/{gen}",
    name: "another user's session",
    method: "DELETE",
    path: (f) => `/session/${f.sid}/result/${GEN}`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "DELETE /session/{sid}/result/{gen}",
    name: "a hostile generator",
    method: "DELETE",
    path: (f) => `/session/${f.sid}/result/${huge(3000)}`,
    status: 400,
    code: "InvalidRequest",
  },

  // Simulations
  {
    route: "GET /simulation/{name}",
    name: "another user's simulation",
    method: "GET",
    path: (f) => `/simulation/${f.sim}`,
    as: "mallory",
    status: 404,
    code: "SimulationNotFound",
  },
  {
    route: "GET /simulation/{name}",
    name: "a name of 3,000 characters",
    method: "GET",
    path: () => `/simulation/${huge(3000)}`,
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "GET /simulation/{name}",
    name: "a traversal in the name",
    method: "GET",
    path: () => "/simulation/..%2F..%2Fetc",
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /simulation/{name}",
    name: "bad JSON",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}`,
    request: () => jsonBody('{"Application":'),
    status: 400,
    code: "InvalidJson",
  },
  {
    route: "PUT /simulation/{name}",
    name: "an application of the wrong type",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}`,
    request: () => jsonBody({ Application: ["fake"] }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /simulation/{name}",
    name: "an application of 100,000 characters",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}`,
    request: () => jsonBody({ Application: huge(100_000) }),
    status: 400,
    code: "UnknownApplication",
  },
  {
    route: "PUT /simulation/{name}",
    name: "a body nested 100,000 deep",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}`,
    request: () => jsonBody(`{"Application":${deepArray(100_000)}}`),
    status: 400,
  },
  {
    route: "PUT /simulation/{name}",
    name: "a Name that differs from the path",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}`,
    request: (f) => jsonBody({ Application: "fake", Name: f.mallorySim }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /simulation/{name}",
    name: "a name with a traversal",
    method: "PUT",
    path: () => "/simulation/..%2Fother",
    request: () => jsonBody({ Application: "fake" }),
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "PUT /simulation/{name}",
    name: "a body over the payload limit",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}`,
    request: () => jsonBody(overBodyLimit()),
    status: 413,
    byGateway: true,
  },
  {
    route: "DELETE /simulation/{name}",
    name: "another user's simulation",
    method: "DELETE",
    path: (f) => `/simulation/${f.sim}`,
    as: "mallory",
    status: 404,
    code: "SimulationNotFound",
  },
  {
    route: "DELETE /simulation/{name}",
    name: "a name of 3,000 characters",
    method: "DELETE",
    path: () => `/simulation/${huge(3000)}`,
    status: 400,
    code: "InvalidRequest",
  },
  ...[
    "../escape.txt",
    "..%2Fescape.txt",
    "%2e%2e/%2e%2e/escape.txt",
    "data/../../escape.txt",
    "data//input.txt",
    "data%5C..%5C..%5Cescape.txt",
    "data%00.txt",
    "%2Fetc%2Fpasswd",
    `${huge(600)}.txt`,
  ].flatMap((path): Case[] => [
    {
      route: "PUT /simulation/{name}/input/{path+}",
      name: `the input path "${path.slice(0, 40)}"`,
      method: "PUT",
      path: (f) => `/simulation/${f.sim}/input/${path}`,
      request: () => ({ body: "evil", headers: { "content-type": "text/plain" } }),
      status: 400,
      code: "InvalidRequest",
    },
    {
      route: "GET /simulation/{name}/input/{path+}",
      name: `the input path "${path.slice(0, 40)}"`,
      method: "GET",
      path: (f) => `/simulation/${f.sim}/input/${path}`,
      status: 400,
      code: "InvalidRequest",
    },
    {
      route: "POST /simulation/{name}/input/{path+}",
      name: `the input path "${path.slice(0, 40)}"`,
      method: "POST",
      path: (f) => `/simulation/${f.sim}/input/${path}?method=putObject`,
      status: 400,
      code: "InvalidRequest",
    },
  ]),
  {
    route: "PUT /simulation/{name}/input/{path+}",
    name: "into another user's simulation",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}/input/data/input.txt`,
    as: "mallory",
    request: () => ({ body: "evil", headers: { "content-type": "text/plain" } }),
    status: 404,
    code: "SimulationNotFound",
  },
  {
    route: "PUT /simulation/{name}/input/{path+}",
    name: "a presigned upload into another user's simulation",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}/input/evil.txt?SignedUrl=True`,
    as: "mallory",
    status: 404,
    code: "SimulationNotFound",
  },
  {
    route: "PUT /simulation/{name}/input/{path+}",
    name: "a file over the payload limit",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}/input/big.bin`,
    request: () => ({
      body: Buffer.alloc(7 * 1024 * 1024, 1),
      headers: { "content-type": "application/octet-stream" },
    }),
    status: 413,
    byGateway: true,
  },
  {
    route: "PUT /simulation/{name}/input/{path+}",
    name: "a file over the direct-upload limit",
    method: "PUT",
    path: (f) => `/simulation/${f.sim}/input/big.bin`,
    request: () => ({
      body: Buffer.alloc(MAX_DIRECT_INPUT_BYTES + 1000, 1),
      headers: { "content-type": "application/octet-stream" },
    }),
    status: 413,
    code: "PayloadTooLarge",
  },
  {
    route: "GET /simulation/{name}/input/{path+}",
    name: "another user's file",
    method: "GET",
    path: (f) => `/simulation/${f.sim}/input/data/input.txt`,
    as: "mallory",
    status: 404,
    code: "SimulationNotFound",
  },
  {
    route: "POST /simulation/{name}/input/{path+}",
    name: "a presign into another user's simulation",
    method: "POST",
    path: (f) => `/simulation/${f.sim}/input/data/input.txt?method=getObject`,
    as: "mallory",
    status: 404,
    code: "SimulationNotFound",
  },
  {
    route: "POST /simulation/{name}/input/{path+}",
    name: "an unknown presign method",
    method: "POST",
    path: (f) => `/simulation/${f.sim}/input/data/input.txt?method=deleteObject`,
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "POST /simulation/{name}/input/{path+}",
    name: "no presign method",
    method: "POST",
    path: (f) => `/simulation/${f.sim}/input/data/input.txt`,
    status: 400,
    code: "InvalidRequest",
  },

  // Jobs by id
  {
    route: "GET /job",
    name: "no session",
    method: "GET",
    path: () => "/job",
    status: 400,
    code: "InvalidRequest",
  },
  {
    route: "GET /job",
    name: "another user's session",
    method: "GET",
    path: (f) => `/job?session=${f.sid}`,
    as: "mallory",
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "GET /job",
    name: "a session id over DynamoDB's key limit",
    method: "GET",
    path: () => `/job?session=${huge(3000)}`,
    status: 404,
    code: "SessionNotFound",
  },
  {
    route: "GET /job/{id}",
    name: "another user's job",
    method: "GET",
    path: (f) => `/job/${f.jobIds[0]}`,
    as: "mallory",
    status: 404,
    code: "JobNotFound",
  },
  {
    route: "GET /job/{id}",
    name: "a job id over DynamoDB's key limit",
    method: "GET",
    path: () => `/job/${huge(3000)}`,
    status: 404,
    code: "JobNotFound",
  },
  {
    route: "POST /job/{id}/terminate",
    name: "another user's job",
    method: "POST",
    path: (f) => `/job/${f.jobIds[0]}/terminate`,
    as: "mallory",
    status: 404,
    code: "JobNotFound",
  },
  {
    route: "POST /job/{id}/terminate",
    name: "a job id over DynamoDB's key limit",
    method: "POST",
    path: () => `/job/${huge(3000)}/terminate`,
    status: 404,
    code: "JobNotFound",
  },

  // A session's summary and job pages, and the console's static files
  ...["GET /session/{sid}/summary", "GET /session/{sid}/jobs"].flatMap((routeKey) =>
    ifRoute(routeKey, [
      {
        route: routeKey,
        name: "another user's session",
        method: "GET",
        path: (f) => concretePath(routeKey.slice(4), f),
        as: "mallory",
        status: 404,
        code: "SessionNotFound",
      },
      {
        route: routeKey,
        name: "a session id over DynamoDB's key limit",
        method: "GET",
        path: (f) => concretePath(routeKey.slice(4), f, { sid: huge(3000) }),
        status: 404,
        code: "SessionNotFound",
      },
    ]),
  ),
  ...ifRoute("GET /console", [
    {
      route: "GET /console",
      name: "another method",
      method: "DELETE",
      path: () => "/console",
      status: 405,
      code: "MethodNotAllowed",
    },
  ]),
  ...ifRoute("GET /console/{asset}", [
    {
      route: "GET /console/{asset}",
      name: "a traversal out of the console's files",
      method: "GET",
      path: () => "/console/..%2F..%2Fpackage.json",
      status: 404,
    },
  ]),

  // Paths that no route serves
  {
    route: "$default",
    name: "an unknown path",
    method: "GET",
    path: () => "/admin",
    status: 404,
    code: "RouteNotFound",
  },
  {
    route: "$default",
    name: "a traversal above the root",
    method: "GET",
    path: () => "/../../etc/passwd",
    status: 404,
    code: "RouteNotFound",
  },
  {
    route: "$default",
    name: "a known path with another method",
    method: "PATCH",
    path: (f) => `/session/${f.sid}`,
    status: 405,
    code: "MethodNotAllowed",
  },
];

// Bad percent-encoding in every path parameter of every route: 400, never 500.
for (const route of ROUTES) {
  for (const param of route.paramNames) {
    for (const bad of BAD_ENCODINGS) {
      cases.push({
        route: route.routeKey,
        name: `bad percent-encoding "${bad}" in {${param}}`,
        method: route.method,
        path: (f) => concretePath(route.template, f, { [param]: param === "path" ? `data/${bad}` : bad }),
        request: () => (route.method === "GET" || route.method === "DELETE" ? {} : jsonBody("[]")),
        status: 400,
        code: "InvalidPath",
      });
    }
  }
}

function callerOf(f: Fixture, as: Caller = "victim"): TestUser {
  return f[as];
}

for (const c of cases) {
  const title = `${c.route}: ${c.name} answers ${c.status} and writes nothing`;
  const run = async (t: ExecutionContext) => {
    const f = await theFixture();
    const before = storeAfterLastCase ?? (await storeOfAll(f));
    storeAfterLastCase = undefined; // until this case has read the store back
    const request = c.request?.(f) ?? {};
    const response = await send(c.method, c.path(f), {
      ...request,
      headers: { authorization: authOf(callerOf(f, c.as)), ...request.headers },
    });
    if (c.byGateway) assertGatewayError(t, response, c.status);
    else assertJsonError(t, response, c.status, c.code);
    const after = await storeOfAll(f);
    storeAfterLastCase = after;
    t.deepEqual(after, before, "the store is as it was");
  };
  if (c.failing) test.serial.failing(`${title} [fixed by issue 9, ${c.failing}]`, run);
  else test.serial(title, run);
}

test.serial("every route of routes.json has hostile cases", (t) => {
  const covered = new Set(cases.map((c) => c.route));
  const missing = [...ROUTES.map((route) => route.routeKey), "$default"].filter((key) => !covered.has(key));
  t.deepEqual(missing, []);
});

// ── bogus credentials of every shape, on every route ────────────────────────────────────────

const BOGUS_CREDENTIALS: [string, (f: Fixture) => string][] = [
  ["an empty user name", () => basic(":some-password")],
  ["a user name over DynamoDB's 2,048-byte key limit", () => basic(`${huge(3000)}:some-password`)],
  ["a user name that is not UTF-8", () => basic(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x3a, 0x70, 0x77]))],
  ["a user name outside the name rule", () => basic("ユーザー/../admin:some-password")],
  ["no colon", () => basic("just-a-user-name")],
  ["a 12 KB header", (f) => basic(`${f.victim.username}:${huge(9000)}`)],
  ["bad base64", () => "Basic !!!not*base64!!!"],
  ["padding in the middle", () => "Basic YWxp=Y2U6cHc="],
  ["nothing after Basic", () => "Basic"],
  ["another scheme", (f) => `Bearer ${f.victim.password}`],
  ["blank credentials (FOQUS over http)", () => "Basic Og=="],
  ["the right user with a wrong password", (f) => basic(`${f.victim.username}:not-the-password`)],
  ["a user that does not exist", () => basic(`${uniqueName("nobody")}:some-password`)],
];

for (const [shape, header] of BOGUS_CREDENTIALS) {
  test.serial(`${shape} answers 401 with the JSON error on every route and writes nothing`, async (t) => {
    const f = await theFixture();
    const before = storeAfterLastCase ?? (await storeOfAll(f));
    const guarded = ROUTES.filter((route) => !UNAUTHENTICATED.has(route.routeKey));
    for (const route of [...guarded, { method: "GET", template: "/no/such/route" }]) {
      const response = await send(
        route.method,
        concretePath(route.template, f),
        withAuthorization(
          header(f),
          route.method === "POST" || route.method === "PUT" ? jsonBody([{ Simulation: f.sim }]) : {},
        ),
      );
      t.is(response.status, 401, `${route.method} ${route.template}: ${response.text.slice(0, 200)}`);
      assertJsonError(t, response, 401);
      t.regex(String(response.headers["www-authenticate"]), /^Basic/);
    }
    t.deepEqual(await storeOfAll(f), before, "the store is as it was");
  });
}

// ── doubled slashes route as API Gateway plus the $default route do ─────────────────────────

test.serial("doubled and trailing slashes reach the route they name, for the caller only", async (t) => {
  const f = await theFixture();
  const auth = { authorization: authOf(f.victim) };
  const list = await send("GET", "//session//", { headers: auth });
  t.is(list.status, 200, list.text);
  t.deepEqual((JSON.parse(list.text) as string[]).sort(), [f.sid, f.emptySid].sort());
  const jobs = await send("GET", `//session//${f.sid}`, { headers: auth });
  t.is(jobs.status, 200, jobs.text);
  t.deepEqual((JSON.parse(jobs.text) as { Id: string }[]).map((job) => job.Id).sort(), [...f.jobIds].sort());
  const simulation = await send("GET", `/simulation//${f.sim}//input//data/input.txt`, { headers: auth });
  t.is(simulation.status, 200, simulation.text);
  t.is(simulation.text, "victim's data");
  // Mallory's doubled slashes reach the same routes, and so the same 404.
  const before = await storeOfAll(f);
  const crossed = await send("DELETE", `//session//${f.sid}`, {
    headers: { authorization: authOf(f.mallory) },
  });
  assertJsonError(t, crossed, 404, "SessionNotFound");
  t.deepEqual(await storeOfAll(f), before);
});

// ── unknown fields are ignored, never stored ────────────────────────────────────────────────

test.serial(
  "unknown and hostile fields in an append are ignored: the job is the caller's, in create",
  async (t) => {
    const f = await theFixture();
    const sid = await f.victim.client.request<string>("POST", "/session");
    const [id] = await f.victim.client.request<string[]>("POST", `/session/${sid}`, {
      body: [
        {
          Simulation: f.sim,
          Input: { x: 1 },
          State: "success",
          Username: f.mallory.username,
          SessionId: f.mallorySid,
          Output: { forged: true },
          Seq: 1,
        },
      ],
    });
    const [job] = await listSessionJobs(sid);
    t.is(job?.JobId, id);
    t.is(job?.State, "create");
    t.is(job?.Username, f.victim.username);
    t.is(job?.OutputJson, undefined);
    t.is(job?.Seq, undefined);
    t.deepEqual(await listSessionJobs(f.mallorySid), []);
  },
);

test.serial(
  "unknown fields of a simulation are ignored: StagedInputs and owner cannot be forged",
  async (t) => {
    const f = await theFixture();
    const name = uniqueName("sim");
    const response = await send(
      "PUT",
      `/simulation/${name}`,
      withAuthorization(
        authOf(f.victim),
        jsonBody({
          Application: "fake",
          StagedInputs: ["../../etc/passwd"],
          Username: f.mallory.username,
          Created: "1970-01-01T00:00:00.000Z",
        }),
      ),
    );
    t.is(response.status, 200, response.text);
    const [stored] = (await listSimulations(f.victim.username)).filter((sim) => sim.Name === name);
    t.deepEqual(stored?.StagedInputs, []);
    t.not(stored?.Created, "1970-01-01T00:00:00.000Z");
    t.deepEqual(
      (await listSimulations(f.mallory.username)).map((sim) => sim.Name),
      [f.mallorySim],
    );
  },
);

// ── an append that fails half-way leaves nothing behind ─────────────────────────────────────

/** Fails the second TransactWriteItems call after `arm()`: an append of many jobs dies half-way. */
const halfWay = { armed: false, calls: 0 };
useClientPlugin((client: AnyClient) => {
  (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const write =
          context.commandName === "TransactWriteItemsCommand" ||
          context.commandName === "BatchWriteItemCommand";
        if (halfWay.armed && write) {
          halfWay.calls += 1;
          if (halfWay.calls === 2) {
            halfWay.armed = false;
            throw Object.assign(new Error("injected: the append's Lambda died half-way"), {
              name: "InternalServerError",
              $retryable: undefined,
            });
          }
        }
        return next(args);
      },
    { step: "initialize", name: "abuseHalfWay", override: true },
  );
});

test.serial(
  "an append that fails half-way writes nothing, so the client's retry cannot double it",
  async (t) => {
    const f = await theFixture();
    const sid = await f.victim.client.request<string>("POST", "/session");
    const body = Array.from({ length: 200 }, (_, i) => ({ Simulation: f.sim, Input: { i } }));
    halfWay.calls = 0;
    halfWay.armed = true;
    const failed = await send("POST", `/session/${sid}`, withAuthorization(authOf(f.victim), jsonBody(body)));
    halfWay.armed = false;
    t.is(failed.status, 500);
    t.deepEqual(await listSessionJobs(sid), [], "nothing of the failed append is visible");
    const retried = await send(
      "POST",
      `/session/${sid}`,
      withAuthorization(authOf(f.victim), jsonBody(body)),
    );
    t.is(retried.status, 200);
    t.is((await listSessionJobs(sid)).length, 200);
  },
);
