/**
 * handlers/http/respond.ts: every error class answers its status with {"error","message"} and
 * the right headers, anything else a 500 that reveals nothing; route results become 200/302
 * responses, large JSON gzipped only for clients that accept it.
 */
import { gunzipSync } from "node:zlib";
import test, { type ExecutionContext } from "ava";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ConfigError, FoqusError } from "../../core/errors.ts";
import { logger } from "../../core/observability.ts";
import {
  bytes,
  CORS_HEADERS,
  errorStatus,
  json,
  redirect,
  toErrorResponse,
  toResponse,
} from "../../handlers/http/respond.ts";
import { makeJobItem, makeKnownErrors } from "../helpers/factories.ts";

logger.setLogLevel("SILENT");

const GENERIC_500 = {
  error: "InternalError",
  message: "The service failed unexpectedly; retry, and report the request id if it persists.",
};

function assertCors(t: ExecutionContext, response: APIGatewayProxyStructuredResultV2) {
  const headers = response.headers ?? {};
  for (const [name, value] of Object.entries(CORS_HEADERS)) t.is(headers[name], value, name);
}

function bodyOf(response: APIGatewayProxyStructuredResultV2): unknown {
  return JSON.parse(response.body ?? "");
}

for (const { error, status } of makeKnownErrors()) {
  test(`${error.name} (${error.code}) answers ${status} with its code and message`, (t) => {
    const response = toErrorResponse(error);
    t.is(response.statusCode, status);
    t.deepEqual(bodyOf(response), { error: error.code, message: error.message });
    t.is(response.headers?.["content-type"], "application/json");
    assertCors(t, response);
    t.is(errorStatus(error), status);
  });
}

test("only a 401 carries www-authenticate, asking for HTTP Basic", (t) => {
  for (const { error, status } of makeKnownErrors()) {
    const challenge = toErrorResponse(error).headers?.["www-authenticate"];
    if (status === 401) t.regex(String(challenge), /^Basic realm="foqus-cloud"/);
    else t.is(challenge, undefined, error.name);
  }
});

test("only a 405 carries allow, listing the allowed methods", (t) => {
  for (const { error, status } of makeKnownErrors()) {
    const allow = toErrorResponse(error).headers?.allow;
    t.is(allow, status === 405 ? "GET, POST" : undefined, error.name);
  }
});

test("a validation error's message names the offending field", (t) => {
  const validation = makeKnownErrors().find(({ status }) => status === 400)!;
  const body = bodyOf(toErrorResponse(validation.error)) as { error: string; message: string };
  t.is(body.error, "InvalidRequest");
  t.true(body.message.includes("[0].Input"));
});

test("an error of a second copy of a class (same name, as two bundles hold) answers like the class", (t) => {
  class NotFoundError extends FoqusError {
    constructor() {
      super("JobNotFound", "Job j-1 does not exist in this session.");
      this.name = "NotFoundError";
    }
  }
  const response = toErrorResponse(new NotFoundError());
  t.is(response.statusCode, 404);
  t.deepEqual(bodyOf(response), { error: "JobNotFound", message: "Job j-1 does not exist in this session." });
});

const UNKNOWN_ERRORS: [string, unknown][] = [
  ["an Error", new Error("connect ECONNREFUSED arn:aws:dynamodb:us-east-1:123456789012:table/jobs")],
  ["a ConfigError", new ConfigError("Environment variable JOBS_TABLE is not set")],
  ["a FoqusError of no known class", new FoqusError("Secret", "internal detail arn:aws:s3:::bucket")],
  ["a thrown string", "table/jobs is gone"],
  ["undefined", undefined],
];

for (const [what, error] of UNKNOWN_ERRORS) {
  test(`${what} answers a bare 500 that reveals nothing of it`, (t) => {
    const response = toErrorResponse(error);
    t.is(response.statusCode, 500);
    t.deepEqual(bodyOf(response), GENERIC_500);
    t.false(response.body?.includes("arn:aws") ?? true);
    t.false(response.body?.includes("table/jobs") ?? true);
    t.false(response.body?.includes("JOBS_TABLE") ?? true);
    t.is(response.headers?.["content-type"], "application/json");
    t.is(response.headers?.["www-authenticate"], undefined);
    assertCors(t, response);
    t.is(errorStatus(error), undefined);
  });
}

test("a JSON result answers 200 with the JSON text and CORS", (t) => {
  const record = makeJobItem({ State: "success" });
  const response = toResponse(json([record]));
  t.is(response.statusCode, 200);
  t.is(response.headers?.["content-type"], "application/json");
  t.is(response.body, JSON.stringify([record]));
  t.falsy(response.isBase64Encoded);
  t.is(response.headers?.["content-encoding"], undefined);
  assertCors(t, response);
});

test("bare numbers and strings stay bare JSON (the turbine client calls int() on them)", (t) => {
  t.is(toResponse(json(3)).body, "3");
  t.is(toResponse(json("0c9e…")).body, '"0c9e…"');
});

test("a redirect answers 302 with its location, an empty body and CORS", (t) => {
  const location = "https://bucket.s3.amazonaws.com/sim-1/flowsheet.json?X-Amz-Signature=abc";
  const response = toResponse(redirect(location));
  t.is(response.statusCode, 302);
  t.is(response.headers?.location, location);
  t.is(response.body, "");
  assertCors(t, response);
});

test("bytes answer 200 base64-encoded with their content type and CORS", (t) => {
  const raw = Uint8Array.from([0, 1, 2, 127, 128, 255]);
  const response = toResponse(bytes(raw, "application/octet-stream"));
  t.is(response.statusCode, 200);
  t.is(response.headers?.["content-type"], "application/octet-stream");
  t.true(response.isBase64Encoded);
  t.deepEqual(Uint8Array.from(Buffer.from(response.body ?? "", "base64")), raw);
  assertCors(t, response);
});

/** A session listing well over the 256 KB above which JSON is compressed. */
const largeListing = () =>
  Array.from({ length: 2000 }, (_, i) =>
    makeJobItem({ JobId: `job-${i}`, State: "success", OutputJson: JSON.stringify({ v: "x".repeat(200) }) }),
  );

test("a large JSON body is gzipped when the client accepts gzip", (t) => {
  const listing = largeListing();
  const text = JSON.stringify(listing);
  t.true(text.length > 256 * 1024);
  const response = toResponse(json(listing), "deflate, GZIP;q=0.9");
  t.is(response.statusCode, 200);
  t.is(response.headers?.["content-encoding"], "gzip");
  t.is(response.headers?.vary, "accept-encoding");
  t.is(response.headers?.["content-type"], "application/json");
  t.true(response.isBase64Encoded);
  const compressed = Buffer.from(response.body ?? "", "base64");
  t.true(compressed.length < text.length);
  t.is(gunzipSync(compressed).toString("utf8"), text);
  assertCors(t, response);
});

test("a large JSON body stays plain for a client that does not accept gzip", (t) => {
  const listing = largeListing();
  for (const acceptEncoding of [undefined, "", "br, deflate", "xgzip"]) {
    const response = toResponse(json(listing), acceptEncoding);
    t.is(response.headers?.["content-encoding"], undefined, String(acceptEncoding));
    t.falsy(response.isBase64Encoded);
    t.is(response.body, JSON.stringify(listing));
  }
});

test("a small JSON body stays plain even when the client accepts gzip", (t) => {
  const response = toResponse(json({ Name: "sim-1" }), "gzip");
  t.is(response.headers?.["content-encoding"], undefined);
  t.is(response.body, '{"Name":"sim-1"}');
});

test("a JSON answer too large for a Lambda response answers 413 with the route's advice, gzip or not", (t) => {
  // Random hex compresses about 2:1 only: 9 MB of it is over 6 MB gzipped (and base64) too.
  const hex = Array.from({ length: 9 * 1024 }, () => Math.random().toString(16).slice(2).padEnd(13, "0"))
    .join("")
    .repeat(80)
    .slice(0, 9 * 1024 * 1024);
  const result = json([hex], { headers: { "foqus-session-state": "open" }, tooLarge: "Page it: ?page=1." });
  for (const acceptEncoding of ["", "gzip"]) {
    const response = toResponse(result, acceptEncoding);
    t.is(response.statusCode, 413, acceptEncoding || "identity");
    t.deepEqual(bodyOf(response), { error: "ResponseTooLarge", message: "Page it: ?page=1." });
    t.is(response.headers?.["foqus-session-state"], "open");
    assertCors(t, response);
  }
  const fits = toResponse(json(["small"], { headers: { "foqus-session-state": "open" } }));
  t.is(fits.statusCode, 200);
  t.is(fits.headers?.["foqus-session-state"], "open");
});
