/**
 * Typed builders for the objects tests and benchmarks make: users, simulations, sessions, jobs,
 * events, API Gateway v2 HTTP events, SQS records, and one error of each class a caller may see.
 * Each takes overrides and fills the rest with fixed, readable defaults (user "alice", session
 * "session-1", job "job-1", times from 2026-01-01T00:00:00.000Z), so a test names only what it
 * is about.
 *
 * It imports only types and modules without side effects (core/errors.ts, core/events/events.ts):
 * importing it needs neither AWS nor any environment variable (unit tests run without either).
 */
import { randomUUID } from "node:crypto";
import type { SQSRecord } from "aws-lambda";
import {
  ArchivedError,
  AuthError,
  ConflictError,
  type FoqusError,
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from "../../core/errors.ts";
import { type EventType, eventAttributes, type FoqusEvent } from "../../core/events/events.ts";
import type { JobItem } from "../../core/jobs/job.ts";
import type { JobState } from "../../core/jobs/states.ts";
import type { SessionRecord } from "../../core/sessions/session-store.ts";
import type { SimulationRecord } from "../../core/simulations/simulation-store.ts";
import type { Principal } from "../../core/users/user.ts";
import type { UserRecord } from "../../core/users/user-store.ts";
import type { AuthorizerContext, HttpEvent } from "../../handlers/http/http-handler.ts";

/** The time every default timestamp counts from. */
export const T0 = "2026-01-01T00:00:00.000Z";

/** `iso` plus `seconds`, as an ISO-8601 UTC timestamp. */
export function secondsAfter(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

// ── users ────────────────────────────────────────────────────────────────────────────────────

/** The authenticated caller a handler sees: "alice", free plan, no roles. */
export function makePrincipal(overrides: Partial<Principal> = {}): Principal {
  return { username: "alice", plan: "free", roles: [], ...overrides };
}

/**
 * A users-table item. The default PasswordHash is well-formed but matches no password; use
 * hashPassword (core/users/password.ts) for one that verifies.
 */
export function makeUserRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    Username: "alice",
    Kind: "user",
    PasswordHash: "scrypt$32768$8$1$c2FsdA==$bm90LWEtcmVhbC1oYXNo",
    Plan: "free",
    Roles: [],
    Created: T0,
    ...overrides,
  };
}

// ── simulations and sessions ─────────────────────────────────────────────────────────────────

/** A simulations-table item: alice's "sim-1" for the foqus application, nothing staged. */
export function makeSimulationRecord(overrides: Partial<SimulationRecord> = {}): SimulationRecord {
  return {
    Username: "alice",
    Name: "sim-1",
    Application: "foqus",
    StagedInputs: [],
    Created: T0,
    Updated: T0,
    ...overrides,
  };
}

/** A sessions-table item, open by default; a killed one gets its Killed time. */
export function makeSessionRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const created = overrides.Created ?? T0;
  return {
    Username: "alice",
    SessionId: "session-1",
    State: "open",
    Created: created,
    ...(overrides.State === "killed" ? { Killed: secondsAfter(created, 60) } : {}),
    ...overrides,
  };
}

// ── jobs ─────────────────────────────────────────────────────────────────────────────────────

/**
 * What a job in `state` carries besides its creation: the timestamps of the states it passed
 * (one second apart after `create`), the worker that took it, and for a terminal state its finish
 * number, its output (success) or its message (error, terminate), as the update processor
 * leaves them.
 */
function lifecycleOf(state: JobState, create: string): Partial<JobItem> {
  const at = (seconds: number) => secondsAfter(create, seconds);
  const worked = { Submit: at(1), Setup: at(2), ConsumerId: "worker-1" };
  const ran = { ...worked, Running: at(3) };
  const finished = { Finished: at(4), Seq: 1 };
  switch (state) {
    case "create":
    case "pause":
      return {};
    case "submit":
      return { Submit: at(1) };
    case "setup":
      return worked;
    case "running":
      return ran;
    case "success":
      return { ...ran, ...finished, OutputJson: '{"graphError":0}' };
    case "error":
      return { ...ran, ...finished, Message: "The model did not converge.", ErrorClass: "model" };
    case "terminate":
      return { ...finished, Message: "Session killed" };
    case "expired":
      return finished;
  }
}

/**
 * A jobs-table item in any state (default `create`): alice's job-1 of session-1 running sim-1.
 * The state fills in what a job in it carries (see lifecycleOf), counted from `Create`;
 * overrides win over all of it, e.g. `makeJobItem({ State: "success", Seq: 7 })`.
 */
export function makeJobItem(overrides: Partial<JobItem> = {}): JobItem {
  const state = overrides.State ?? "create";
  const create = overrides.Create ?? T0;
  return {
    SessionId: "session-1",
    JobId: "job-1",
    Username: "alice",
    Simulation: "sim-1",
    Application: "foqus",
    InputJson: "{}",
    Initialize: false,
    Reset: true,
    State: state,
    Create: create,
    Ordinal: `${create}#0000`,
    Fingerprint: "fingerprint",
    ...lifecycleOf(state, create),
    ...overrides,
  };
}

// ── events ───────────────────────────────────────────────────────────────────────────────────

/**
 * What each type of event always carries besides the envelope: job events name their job, a
 * submit what the worker needs to run it, a success its output, a consumer heartbeat its
 * consumer. Everything else (consumer, message, errorClass, setupTime…) comes from overrides.
 */
function payloadOf(type: EventType): Partial<FoqusEvent> {
  if (type === "consumer.running") return { consumer: "worker-1" };
  if (!type.startsWith("job.")) return {};
  if (type === "job.submit") {
    return {
      job: "job-1",
      application: "foqus",
      simulation: "sim-1",
      input: {},
      initialize: false,
      reset: true,
    };
  }
  if (type === "job.success") return { job: "job-1", outputJson: '{"graphError":0}' };
  return { job: "job-1" };
}

/**
 * An event of `type` for alice's session-1, happening now with a fresh id (as
 * core/events/event-publisher.ts newEvent makes them); overrides win.
 */
export function makeEvent(type: EventType = "job.setup", overrides: Partial<FoqusEvent> = {}): FoqusEvent {
  return {
    id: randomUUID(),
    event: type,
    time: new Date().toISOString(),
    username: "alice",
    session: "session-1",
    ...payloadOf(type),
    ...overrides,
  };
}

// ── API Gateway v2 HTTP events ───────────────────────────────────────────────────────────────

export interface HttpEventOptions {
  /** The route key, e.g. "GET /session/{sid}" (default "GET /application"). */
  routeKey?: string;
  /** Path parameters; they also fill the route key's template to make the default path. */
  pathParameters?: Record<string, string>;
  /** Default: the route key's method. */
  method?: string;
  /** Default: the route key's template with the path parameters in it. */
  path?: string;
  query?: Record<string, string>;
  /** Sent as given (API Gateway lower-cases names; tests may want to check the handler does). */
  headers?: Record<string, string>;
  /** A string is sent as is, bytes always base64-encoded, anything else as JSON. */
  body?: string | Uint8Array | object;
  /** Base64-encode a string or JSON body, as API Gateway does for binary content types. */
  base64?: boolean;
  /** The authenticated caller (default makePrincipal()); null for no authorizer context at all. */
  caller?: Principal | null;
  /** What the authorizer reports for failed credentials (replaces the caller). */
  authError?: { code: string; message: string };
  /** The authorizer's context exactly as given (replaces caller and authError). */
  authorizer?: AuthorizerContext;
}

/** What the authorizer puts in the Lambda context for a caller. */
export function authorizerContextOf(caller: Principal): AuthorizerContext {
  return { username: caller.username, plan: caller.plan, roles: caller.roles.join(",") };
}

function authorizerOf(options: HttpEventOptions): AuthorizerContext {
  if (options.authorizer) return options.authorizer;
  if (options.authError) return { authError: options.authError.code, authMessage: options.authError.message };
  const caller = options.caller === undefined ? makePrincipal() : options.caller;
  return caller ? authorizerContextOf(caller) : {};
}

function pathOf(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}+]+)\+?\}/g, (whole, name: string) => params[name] ?? whole);
}

function bodyOf(options: HttpEventOptions): Pick<HttpEvent, "body" | "isBase64Encoded"> {
  const { body } = options;
  if (body === undefined) return { isBase64Encoded: false };
  if (body instanceof Uint8Array)
    return { body: Buffer.from(body).toString("base64"), isBase64Encoded: true };
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return options.base64
    ? { body: Buffer.from(text, "utf8").toString("base64"), isBase64Encoded: true }
    : { body: text, isBase64Encoded: false };
}

/**
 * An API Gateway v2 (payload 2.0) event as the Lambda authorizer leaves it: the caller's
 * context, or the auth error, in `requestContext.authorizer.lambda`.
 */
export function makeHttpEvent(options: HttpEventOptions = {}): HttpEvent {
  const routeKey = options.routeKey ?? "GET /application";
  const [routeMethod = "GET", template = "/"] = routeKey.split(" ");
  const method = options.method ?? routeMethod;
  const path = options.path ?? pathOf(template, options.pathParameters ?? {});
  const headers = { ...options.headers };
  if (options.body !== undefined && typeof options.body === "object" && !(options.body instanceof Uint8Array))
    headers["content-type"] ??= "application/json";
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query).toString(),
    headers,
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "test",
      domainName: "api.test",
      domainPrefix: "api",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: T0,
      timeEpoch: Date.parse(T0),
      authorizer: { lambda: authorizerOf(options) },
    },
    ...bodyOf(options),
  };
}

// ── SQS records ──────────────────────────────────────────────────────────────────────────────

export const UPDATE_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:foqus-updates";

/** The ARN of a pool's job dead-letter queue, named as Terraform names it (`<prefix>-jobs-<pool>-dlq`). */
export function jobDeadLetterQueueArn(pool = "default"): string {
  return `arn:aws:sqs:us-east-1:123456789012:foqus-jobs-${pool}-dlq`;
}

export interface SqsRecordOptions {
  /** Default: the update queue. */
  eventSourceARN?: string;
  /** How many times SQS has delivered the message, this delivery included (default 1). */
  receiveCount?: number;
  messageId?: string;
}

/**
 * An SQS record as Lambda hands it to a queue's function: an event (JSON, raw SNS delivery, with
 * its routing attributes) or any body string (to test malformed messages).
 */
export function makeSqsRecord(body: FoqusEvent | string, options: SqsRecordOptions = {}): SQSRecord {
  const messageAttributes: SQSRecord["messageAttributes"] = {};
  if (typeof body !== "string") {
    for (const [name, value] of Object.entries(eventAttributes(body)))
      messageAttributes[name] = { dataType: value.DataType, stringValue: value.StringValue };
  }
  const messageId = options.messageId ?? randomUUID();
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.parse(T0)),
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: String(Date.parse(T0)),
    },
    messageAttributes,
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: options.eventSourceARN ?? UPDATE_QUEUE_ARN,
    awsRegion: "us-east-1",
  };
}

// ── errors ───────────────────────────────────────────────────────────────────────────────────

export interface KnownErrorCase {
  error: FoqusError;
  /** The HTTP status DESIGN.md gives this class. */
  status: number;
}

/** One of every error class a caller may see, each with its status (handlers/http/respond.ts). */
export function makeKnownErrors(): KnownErrorCase[] {
  return [
    { error: new ValidationError("Input must be a JSON object of input values", "[0].Input"), status: 400 },
    { error: new AuthError("BadCredentials", "The user name or password is wrong."), status: 401 },
    { error: new ForbiddenError("Only administrators may change plans."), status: 403 },
    { error: new NotFoundError("SessionNotFound", "Session s-1 does not exist for this user."), status: 404 },
    { error: new MethodNotAllowedError("PATCH", "/session", ["GET", "POST"]), status: 405 },
    {
      error: new ConflictError("SessionKilled", "Session s-1 was killed and takes no new jobs."),
      status: 409,
    },
    { error: new ArchivedError("The results of session s-1 are archived; restore them first."), status: 409 },
    {
      error: new PayloadTooLargeError("The request body is 7000000 bytes; the API accepts less."),
      status: 413,
    },
  ];
}
