/**
 * @module local/api-client
 * A small client for the public API, making the requests the FOQUS turbine client makes. Used by
 * the demo and the benchmarks; every non-200 answer (but the 302s asked for) is an error that
 * carries the API's JSON error.
 */
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

export interface JobRecord {
  Id: string;
  State: string;
  Input: Record<string, unknown>;
  Output: Record<string, unknown> | null;
  Message: string | null;
  [field: string]: unknown;
}

export class FoqusClient {
  private readonly authorization: string;

  constructor(
    readonly baseUrl: string,
    username: string,
    password: string,
  ) {
    this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: this.authorization,
        ...(body !== undefined ? { "content-type": "application/json; charset=utf-8" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (response.status !== 200) {
      let code = "HttpError";
      let message = text;
      try {
        const error = JSON.parse(text) as { error?: string; message?: string };
        code = error.error ?? code;
        message = error.message ?? text;
      } catch {
        // not JSON
      }
      throw new ApiError(response.status, code, `${method} ${path} answered ${response.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }

  applications() {
    return this.request<{ Name: string; Inputs: string[] }[]>("GET", "/application");
  }
  putSimulation(name: string, application: string) {
    return this.request("PUT", `/simulation/${name}`, {
      Application: application,
      StagedInputs: [],
      Name: name,
    });
  }
  createSession() {
    return this.request<string>("POST", "/session");
  }
  append(sessionId: string, jobs: unknown[], idempotencyKey?: string) {
    return this.request<string[]>(
      "POST",
      `/session/${sessionId}`,
      jobs,
      idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
    );
  }
  start(sessionId: string) {
    return this.request<string[]>("POST", `/session/${sessionId}/start`);
  }
  kill(sessionId: string) {
    return this.request<string>("POST", `/session/${sessionId}/kill`);
  }
  jobs(sessionId: string) {
    return this.request<JobRecord[]>("GET", `/session/${sessionId}`);
  }
  closePage(sessionId: string, gen = "00000000-0000-0000-0000-000000000000") {
    return this.request<number>("POST", `/session/${sessionId}/result/${gen}`);
  }
  readPage(sessionId: string, page: number, gen = "00000000-0000-0000-0000-000000000000") {
    return this.request<JobRecord[]>("GET", `/session/${sessionId}/result/${gen}/${page}?rpp=2000`);
  }
  /**
   * One poll the way FOQUS polls: close a page, and read it if it is newer than `pagesRead`.
   * Answers the newest page number and its records (none when nothing new finished).
   */
  async pollResults(sessionId: string, pagesRead: number): Promise<{ page: number; records: JobRecord[] }> {
    const page = await this.closePage(sessionId);
    return { page, records: page > pagesRead ? await this.readPage(sessionId, page) : [] };
  }
}
