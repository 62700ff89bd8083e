/**
 * @module client/api-client
 * The one TypeScript client of the public API, making the requests the FOQUS turbine client
 * makes (HTTP Basic, JSON bodies, the default result generator). The demo, the benchmark, the
 * tests and the command line all use it.
 *
 * `send` is the raw request (any status, redirects not followed), for callers that inspect
 * statuses; every typed method treats any status but 200 (and the 302s it asked for) as an
 * ApiError carrying the API's JSON error, as the turbine client does.
 */

import type { JobRecord as ServiceJobRecord } from "../core/jobs/job.ts";
import type { JobState } from "../core/jobs/states.ts";
import type { SessionSummary } from "../core/sessions/session-summary.ts";

export type { JobState, SessionSummary };

/** The generator id FOQUS sends: one page sequence per session. */
export const DEFAULT_GENERATOR = "00000000-0000-0000-0000-000000000000";

/** A non-200 answer: its status and the API's `{"error", "message"}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * A job as `GET /session/{sid}`, `GET /job/{id}` and the result pages show it (DESIGN section 2):
 * the service's own record, with Output typed as the JSON object an engine returns.
 */
export type JobRecord = Omit<ServiceJobRecord, "Output"> & {
  Output: Record<string, unknown> | null;
  [field: string]: unknown;
};

export interface Simulation {
  Name: string;
  Application: string;
  StagedInputs: string[];
}

/** One page of `GET /session/{sid}/jobs`: the jobs and the cursor of the next page (null on the last). */
export interface JobPage {
  Jobs: JobRecord[];
  Next: string | null;
}

export interface JobPageOptions {
  state?: JobState;
  /** 1 to 500; the API's default is 100. */
  limit?: number;
  /** The previous page's `Next`. */
  after?: string;
}

/** One job of an append (unknown fields are accepted and ignored by the API). */
export interface JobRequest {
  Simulation: string;
  Input?: Record<string, unknown>;
  Initialize?: boolean;
  Reset?: boolean;
  Application?: string;
  Id?: string;
  [field: string]: unknown;
}

export interface SendOptions {
  /** A JSON body (strings are sent as they are), with Content-Type application/json unless set. */
  body?: unknown;
  /** A body sent exactly as given, with no Content-Type unless set. */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export class FoqusClient {
  private readonly authorization: string;

  constructor(
    readonly baseUrl: string,
    readonly username: string,
    password: string,
  ) {
    this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }

  /** The raw request: any status comes back as it is, and redirects are not followed. */
  send(method: string, path: string, options: SendOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: this.authorization, ...options.headers };
    let body: string | Uint8Array | undefined = options.raw;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type"))
        headers["content-type"] = "application/json";
    }
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      redirect: "manual",
    });
  }

  /** A request that must answer 200; its JSON body, or ApiError. */
  async request<T>(method: string, path: string, options: SendOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    if (response.status !== 200) throw apiError(method, path, response.status, text);
    return JSON.parse(text) as T;
  }

  /** A request that must answer 302; the Location it points to (a presigned S3 URL). */
  async redirectTarget(method: string, path: string): Promise<string> {
    const response = await this.send(method, path);
    const location = response.headers.get("location");
    if (response.status !== 302 || !location)
      throw apiError(method, path, response.status, await response.text());
    return location;
  }

  applications() {
    return this.request<{ Name: string; Inputs: string[] }[]>("GET", "/application");
  }
  user() {
    return this.request<{ Name: string; Plan: string; Roles: string[] }>("GET", "/user");
  }

  putSimulation(name: string, application: string) {
    return this.request<Simulation>("PUT", `/simulation/${name}`, {
      body: { Application: application, StagedInputs: [], Name: name },
    });
  }
  simulations() {
    return this.request<Simulation[]>("GET", "/simulation");
  }
  simulation(name: string) {
    return this.request<Simulation>("GET", `/simulation/${name}`);
  }
  deleteSimulation(name: string) {
    return this.request<Simulation>("DELETE", `/simulation/${name}`);
  }
  /** A presigned S3 URL to PUT a staged file to (files up to 5 GB; the API records it as staged). */
  presignedInputUpload(name: string, path: string) {
    return this.redirectTarget("POST", `/simulation/${name}/input/${encodePath(path)}?method=putObject`);
  }
  /** Uploads a staged file straight through the API (small files). */
  putInput(
    name: string,
    path: string,
    content: string | Uint8Array,
    contentType = "application/octet-stream",
  ) {
    return this.request<Simulation>("PUT", `/simulation/${name}/input/${path}`, {
      raw: content,
      headers: { "content-type": contentType },
    });
  }

  createSession() {
    return this.request<string>("POST", "/session");
  }
  sessions() {
    return this.request<string[]>("GET", "/session");
  }
  append(sessionId: string, jobs: JobRequest[], idempotencyKey?: string) {
    return this.request<string[]>("POST", `/session/${sessionId}`, {
      body: jobs,
      ...(idempotencyKey ? { headers: { "idempotency-key": idempotencyKey } } : {}),
    });
  }
  start(sessionId: string) {
    return this.request<string[]>("POST", `/session/${sessionId}/start`);
  }
  stop(sessionId: string) {
    return this.request<string>("POST", `/session/${sessionId}/stop`);
  }
  kill(sessionId: string) {
    return this.request<string>("POST", `/session/${sessionId}/kill`);
  }
  deleteSession(sessionId: string) {
    return this.request<unknown>("DELETE", `/session/${sessionId}`);
  }
  jobs(sessionId: string) {
    return this.request<JobRecord[]>("GET", `/session/${sessionId}`);
  }
  /** The session's state and its jobs' counts per state, without listing them. */
  sessionSummary(sessionId: string) {
    return this.request<SessionSummary>("GET", `/session/${sessionId}/summary`);
  }
  /** One page of the session's jobs, optionally in one state. */
  jobPage(sessionId: string, options: JobPageOptions = {}) {
    const query = new URLSearchParams();
    if (options.state) query.set("state", options.state);
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.after) query.set("after", options.after);
    const search = query.size > 0 ? `?${query}` : "";
    return this.request<JobPage>("GET", `/session/${sessionId}/jobs${search}`);
  }

  /** Closes the next result page; answers the newest page's number (0 when none). */
  closePage(sessionId: string, gen = DEFAULT_GENERATOR) {
    return this.request<number>("POST", `/session/${sessionId}/result/${gen}`);
  }
  readPage(sessionId: string, page: number, gen = DEFAULT_GENERATOR) {
    return this.request<JobRecord[]>("GET", `/session/${sessionId}/result/${gen}/${page}?rpp=2000`);
  }
  /**
   * One poll the way FOQUS polls: close a page, and read it if it is newer than `pagesRead`.
   * Answers the newest page number and its records (none when nothing new finished).
   */
  async pollResults(
    sessionId: string,
    pagesRead: number,
    gen = DEFAULT_GENERATOR,
  ): Promise<{ page: number; records: JobRecord[] }> {
    const page = await this.closePage(sessionId, gen);
    return { page, records: page > pagesRead ? await this.readPage(sessionId, page, gen) : [] };
  }
}

/** A staged file's path in a URL: each segment encoded, the slashes kept. */
function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function apiError(method: string, path: string, status: number, text: string): ApiError {
  let code = "HttpError";
  let message = text;
  try {
    const error = JSON.parse(text) as { error?: string; message?: string };
    code = error.error ?? code;
    message = error.message ?? text;
  } catch {
    // not JSON
  }
  return new ApiError(status, code, `${method} ${path} answered ${status}: ${message}`);
}
