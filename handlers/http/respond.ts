/**
 * @module http/respond
 * The one place results and errors become HTTP responses. Every response carries the CORS
 * headers (handlers/cors.json, which Terraform reads too). Known errors answer their status with {"error","message"}; anything else is logged
 * with its stack and answered with a bare 500 that reveals nothing.
 */
import { gzipSync } from "node:zlib";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  ArchivedError,
  AuthError,
  ConflictError,
  type FoqusError,
  ForbiddenError,
  isErrorOf,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from "../../core/errors.ts";
import { logger } from "../../core/observability.ts";
import cors from "../cors.json" with { type: "json" };

export const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": cors.allowMethods.join(","),
  "access-control-allow-headers": cors.allowHeaders.join(","),
};

/** What a JSON result may add: headers, and what to tell a caller whose answer would not fit. */
export interface JsonOptions {
  headers?: Record<string, string>;
  /** The message of the 413 answered when the body would exceed Lambda's response limit. */
  tooLarge?: string;
}

/** What a route returns: JSON (the usual 200), a redirect, or raw bytes. */
export type RouteResult =
  | { kind: "json"; body: unknown; options?: JsonOptions }
  | { kind: "redirect"; location: string }
  | { kind: "bytes"; body: Uint8Array; contentType: string; headers?: Record<string, string> };

export const json = (body: unknown, options?: JsonOptions): RouteResult => ({
  kind: "json",
  body,
  ...(options ? { options } : {}),
});
export const redirect = (location: string): RouteResult => ({ kind: "redirect", location });
export const bytes = (
  body: Uint8Array,
  contentType: string,
  headers?: Record<string, string>,
): RouteResult => ({
  kind: "bytes",
  body,
  contentType,
  ...(headers ? { headers } : {}),
});

/** JSON bodies larger than this are gzipped for clients that accept it. */
const COMPRESS_ABOVE_BYTES = 256 * 1024;

/**
 * Lambda's limit on a synchronous response (6 MB), less room for the rest of the payload: a
 * larger one fails the integration, and API Gateway answers 502.
 */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 16 * 1024;

/** Bodies this small fit whatever their escaping; only larger ones are measured. */
const MEASURE_ABOVE_BYTES = 1024 * 1024;

/**
 * A 200 JSON response. Large bodies (a 10,000-job session listing runs to megabytes) are gzipped
 * when the client accepts gzip, which keeps them far inside Lambda's 6 MB response limit. A body
 * that would still exceed it (the body travels as a JSON string, quotes escaped) answers 413
 * with `tooLarge`, never a 5xx.
 */
function jsonResponse(
  body: unknown,
  acceptEncoding: string,
  options: JsonOptions = {},
): APIGatewayProxyStructuredResultV2 {
  const text = JSON.stringify(body);
  const headers = { ...CORS_HEADERS, ...options.headers, "content-type": "application/json" };
  let response: APIGatewayProxyStructuredResultV2 = { statusCode: 200, headers, body: text };
  if (text.length > COMPRESS_ABOVE_BYTES && /\bgzip\b/i.test(acceptEncoding)) {
    response = {
      statusCode: 200,
      headers: { ...headers, "content-encoding": "gzip", vary: "accept-encoding" },
      body: gzipSync(text).toString("base64"),
      isBase64Encoded: true,
    };
  }
  const size = response.body?.length ?? 0;
  if (size > MEASURE_ABOVE_BYTES && Buffer.byteLength(JSON.stringify(response)) > MAX_RESPONSE_BYTES) {
    return errorResponse(
      413,
      "ResponseTooLarge",
      options.tooLarge ??
        "The answer is larger than one API response can carry (6 MB); ask for less of it at a time.",
      options.headers,
    );
  }
  return response;
}

export function toResponse(result: RouteResult, acceptEncoding = ""): APIGatewayProxyStructuredResultV2 {
  switch (result.kind) {
    case "json":
      return jsonResponse(result.body, acceptEncoding, result.options);
    case "redirect":
      return { statusCode: 302, headers: { ...CORS_HEADERS, location: result.location }, body: "" };
    case "bytes":
      return {
        statusCode: 200,
        headers: { ...CORS_HEADERS, ...result.headers, "content-type": result.contentType },
        body: Buffer.from(result.body).toString("base64"),
        isBase64Encoded: true,
      };
  }
}

const STATUS_BY_ERROR: [abstract new (...args: never[]) => FoqusError, number][] = [
  [ValidationError, 400],
  [AuthError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [ArchivedError, 409],
  [PayloadTooLargeError, 413],
];

export function errorStatus(error: unknown): number | undefined {
  for (const [type, status] of STATUS_BY_ERROR) if (isErrorOf(error, type)) return status;
  return undefined;
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  extraHeaders: Record<string, string> = {},
) {
  return {
    statusCode: status,
    headers: { ...CORS_HEADERS, ...extraHeaders, "content-type": "application/json" },
    body: JSON.stringify({ error: code, message }),
  } satisfies APIGatewayProxyStructuredResultV2;
}

export function toErrorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const status = errorStatus(error);
  if (status !== undefined && error instanceof Error) {
    const known = error as FoqusError;
    logger.info("request rejected", { status, error: known.code, details: known.details });
    const headers: Record<string, string> = {};
    if (status === 401) headers["www-authenticate"] = 'Basic realm="foqus-cloud", charset="UTF-8"';
    if (isErrorOf(error, MethodNotAllowedError)) headers.allow = error.allowed.join(", ");
    return errorResponse(status, known.code, known.message, headers);
  }
  logger.error("unexpected error", error as Error);
  return errorResponse(
    500,
    "InternalError",
    "The service failed unexpectedly; retry, and report the request id if it persists.",
  );
}
