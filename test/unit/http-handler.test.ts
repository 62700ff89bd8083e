/**
 * handlers/http/http-handler.ts with a route map of its own: no route runs without an
 * authenticated caller, a route gets the caller, parameters, query, lower-cased headers and the
 * decoded body, bodies over the limit answer 413, errors answer through respond.ts, and a route
 * key the function does not serve is the deployment's fault (500), not the caller's.
 */
import { gunzipSync } from "node:zlib";
import test from "ava";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { MAX_REQUEST_BYTES } from "../../core/limits.ts";
import { logger } from "../../core/observability.ts";
import { createHttpHandler, type HttpRequest, type Routes } from "../../handlers/http/http-handler.ts";
import { json } from "../../handlers/http/respond.ts";
import { lambdaContext } from "../../local/runtime/lambda-context.ts";
import {
  type HttpEventOptions,
  makeHttpEvent,
  makeKnownErrors,
  makePrincipal,
} from "../helpers/factories.ts";

logger.setLogLevel("SILENT");

const ECHO = "POST /session/{sid}/echo";
const FAIL = "GET /fail/{index}";

/** A handler over a route map of its own, and every request its routes received. */
function echoHandler() {
  const received: HttpRequest[] = [];
  const routes: Routes = {
    [ECHO]: async (request) => {
      received.push(request);
      return json({ ok: true });
    },
    [FAIL]: async (request) => {
      received.push(request);
      const index = Number(request.params.index);
      throw makeKnownErrors()[index]?.error ?? new Error(`database password is hunter2 (${index})`);
    },
  };
  const handler = createHttpHandler(routes);
  return {
    received,
    call: (options: HttpEventOptions) => handler(makeHttpEvent(options), lambdaContext("test")),
  };
}

const echo = (options: Omit<HttpEventOptions, "routeKey"> = {}): HttpEventOptions => ({
  routeKey: ECHO,
  pathParameters: { sid: "session-1" },
  ...options,
});

function bodyOf(response: APIGatewayProxyStructuredResultV2): { error?: string; message?: string } {
  return JSON.parse(response.body ?? "");
}

test("a request without an authenticated caller answers 401 JSON and runs no route", async (t) => {
  const { call, received } = echoHandler();
  const response = await call(echo({ caller: null }));
  t.is(response.statusCode, 401);
  t.deepEqual(bodyOf(response), {
    error: "MissingCredentials",
    message: "This request was not authenticated.",
  });
  t.is(response.headers?.["content-type"], "application/json");
  t.regex(String(response.headers?.["www-authenticate"]), /^Basic /);
  t.is(response.headers?.["access-control-allow-origin"], "*");
  t.is(received.length, 0);
});

test("an auth error the authorizer reports answers 401 with its code and message", async (t) => {
  const { call, received } = echoHandler();
  const authError = { code: "BadCredentials", message: "The user name or password is wrong." };
  const response = await call(echo({ authError }));
  t.is(response.statusCode, 401);
  t.deepEqual(bodyOf(response), { error: authError.code, message: authError.message });
  t.regex(String(response.headers?.["www-authenticate"]), /^Basic /);
  t.is(received.length, 0);
});

test("the caller check comes before the route lookup: an unknown route without a caller is 401", async (t) => {
  const { call } = echoHandler();
  const response = await call({ routeKey: "GET /nowhere", caller: null });
  t.is(response.statusCode, 401);
});

test("the route receives the caller, path parameters, query and lower-cased headers", async (t) => {
  const { call, received } = echoHandler();
  const caller = makePrincipal({ username: "bob", plan: "premium", roles: ["admin"] });
  const response = await call(
    echo({
      caller,
      pathParameters: { sid: "s-42" },
      query: { page: "2", rpp: "10" },
      headers: { "Idempotency-Key": "k-1", "X-Custom": "v", accept: "application/json" },
    }),
  );
  t.is(response.statusCode, 200);
  t.deepEqual(JSON.parse(response.body ?? ""), { ok: true });
  const [request] = received;
  t.deepEqual(request?.caller, caller);
  t.deepEqual(request?.params, { sid: "s-42" });
  t.deepEqual(request?.query, { page: "2", rpp: "10" });
  t.deepEqual(request?.headers, { "idempotency-key": "k-1", "x-custom": "v", accept: "application/json" });
  t.is(request?.body, undefined);
  t.is(request?.text, undefined);
});

test("a caller with an unknown plan is treated as free, with no roles", async (t) => {
  const { call, received } = echoHandler();
  t.is((await call(echo({ authorizer: { username: "carol", plan: "gold" } }))).statusCode, 200);
  t.deepEqual(received[0]?.caller, { username: "carol", plan: "free", roles: [] });
});

test("the route receives a plain body as bytes and as text", async (t) => {
  const { call, received } = echoHandler();
  const jobs = [{ Simulation: "sim-1", Input: { x: 1.5 } }];
  await call(echo({ body: jobs }));
  t.deepEqual(received[0]?.body, Buffer.from(JSON.stringify(jobs)));
  t.deepEqual(JSON.parse(received[0]?.text ?? ""), jobs);
});

test("the route receives a base64 body decoded", async (t) => {
  const { call, received } = echoHandler();
  const raw = Uint8Array.from([0, 1, 2, 254, 255]);
  await call(echo({ body: raw }));
  await call(echo({ body: "héllo", base64: true }));
  t.deepEqual(received[0]?.body, Buffer.from(raw));
  t.is(received[1]?.text, "héllo");
});

test("a body at the limit is accepted, one byte over answers 413 and runs no route", async (t) => {
  const { call, received } = echoHandler();
  t.is((await call(echo({ body: "x".repeat(MAX_REQUEST_BYTES) }))).statusCode, 200);
  const response = await call(echo({ body: "x".repeat(MAX_REQUEST_BYTES + 1) }));
  t.is(response.statusCode, 413);
  t.is(bodyOf(response).error, "PayloadTooLarge");
  t.true(bodyOf(response).message?.includes(String(MAX_REQUEST_BYTES)));
  t.is(received.length, 1);
});

test("the limit applies to the decoded bytes of a base64 body, not to its encoding", async (t) => {
  const { call, received } = echoHandler();
  const atLimit = await call(echo({ body: new Uint8Array(MAX_REQUEST_BYTES) }));
  t.is(atLimit.statusCode, 200);
  t.is(received[0]?.body?.length, MAX_REQUEST_BYTES);
  t.is((await call(echo({ body: new Uint8Array(MAX_REQUEST_BYTES + 1) }))).statusCode, 413);
});

for (const [index, { error, status }] of makeKnownErrors().entries()) {
  test(`a route throwing ${error.name} answers ${status} with its code and message`, async (t) => {
    const { call } = echoHandler();
    const response = await call({ routeKey: FAIL, pathParameters: { index: String(index) } });
    t.is(response.statusCode, status);
    t.deepEqual(bodyOf(response), { error: error.code, message: error.message });
    t.is(response.headers?.["access-control-allow-origin"], "*");
  });
}

test("a route throwing anything else answers a 500 that reveals nothing", async (t) => {
  const { call, received } = echoHandler();
  const response = await call({ routeKey: FAIL, pathParameters: { index: "99" } });
  t.is(received.length, 1);
  t.is(response.statusCode, 500);
  t.is(bodyOf(response).error, "InternalError");
  t.false(response.body?.includes("hunter2") ?? true);
});

test("a route key this function does not serve answers 500, not a caller's error", async (t) => {
  const { call, received } = echoHandler();
  const response = await call({ routeKey: "GET /session/{sid}", pathParameters: { sid: "s-1" } });
  t.is(response.statusCode, 500);
  t.is(bodyOf(response).error, "InternalError");
  t.false(response.body?.includes("No route") ?? true);
  t.false(response.body?.includes("routes.json") ?? true);
  t.is(received.length, 0);
});

test("a large result is gzipped for a client whose Accept-Encoding (any case) has gzip", async (t) => {
  const listing = Array.from({ length: 3000 }, (_, i) => ({ Id: `job-${i}`, Output: "y".repeat(100) }));
  const handler = createHttpHandler({ [ECHO]: async () => json(listing) });
  const event = makeHttpEvent(echo({ headers: { "Accept-Encoding": "gzip, deflate" } }));
  const response = await handler(event, lambdaContext("test"));
  t.is(response.headers?.["content-encoding"], "gzip");
  t.deepEqual(JSON.parse(gunzipSync(Buffer.from(response.body ?? "", "base64")).toString("utf8")), listing);
});
