/**
 * A session of 100,000 jobs (BENCH_LARGE_JOBS) through the API: append (1,000 jobs a call), the
 * listing (whole, which answers 413 past SESSION_LISTING_MAX_JOBS; its first page, its last,
 * and past the end), the summary, start and kill, with the AWS requests each API call made itself
 * and the size of its answer. The judged figure is the most requests any single call made (DESIGN
 * section 10: every call within API Gateway's 30 s and 6 MB, by its requests, not by the
 * emulator's time). The start and the kill hand most of their work to the backend
 * (core/sessions/fan-out.ts); how long that took to converge on the emulator is reported when
 * the run waits for it (`converge`: make bench-large does, make bench's fifth part does not).
 *
 * Each call is counted alone: the calls go through a gateway of this module's own, which runs
 * each request in an AsyncLocalStorage scope, and a client plugin adds a request to the scope it
 * was made in. The backend (fan-out pages, submit publisher, update processor, the triggers'
 * polling) runs outside any scope, so its requests never count toward a call, however busy it is.
 *
 * `node --import tsx bench/large-session.ts` (or `make bench-large`) starts a local stack, runs it
 * alone and prints the JSON; bench/run.ts calls runLargeSession with the stack it started.
 */
import "../local/env/process-defaults.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, request, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { FoqusClient } from "../client/api-client.ts";
import { type AnyClient, useClientPlugin } from "../core/aws/clients.ts";
import { queryJobKeys } from "../core/jobs/job-key-pages.ts";
import { type JobState, KILLABLE_STATES } from "../core/jobs/states.ts";
import { findSession } from "../core/sessions/session-store.ts";
import { createUser } from "../core/users/user-store.ts";
import type { Stack } from "../local/env/stack.ts";
import { createGatewayHandler } from "../local/runtime/gateway.ts";

/** What one API call cost. */
export interface CallFigures {
  /** The method and route, e.g. "POST /session/{sid}/start". */
  call: string;
  status: number;
  /** AWS requests the call made itself (authorizer included), by operation. */
  requests: number;
  byOperation: Record<string, number>;
  /** Bytes of the answer's body as sent (gzipped, as for the turbine client, when over 256 KB). */
  responseBytes: number;
  /** Wall time on the emulator: reported, not judged. */
  ms: number;
}

/** What runLargeSession answers (and the entry prints as JSON). */
export interface LargeSessionResult {
  jobs: number;
  /** The judged figure: the most AWS requests any one API call made, and which call. */
  maxRequestsPerCall: { value: number; call: string };
  /** The largest answer of any call, in bytes (API Gateway and Lambda allow 6 MB). */
  maxResponseBytes: number;
  /** The appends (jobs / 1,000 calls): the most and the mean requests of one. */
  append: { calls: number; maxRequests: number; meanRequests: number; seconds: number };
  /** Every other call, in the order made. */
  calls: CallFigures[];
  /** Emulator wall times of the backend's work, in seconds: reported, not judged. */
  converged: {
    /** Whether the run waited for the backend (false: the figures below are null). */
    waited: boolean;
    /** Every job claimed: the start's fan-out ended, none left in create. */
    startSeconds: number | null;
    /** The kill's fan-out ended: every unfinished job was sent its terminate. */
    killPublishedSeconds: number | null;
    /** The update processor ended every job (none left unfinished). */
    killSeconds: number | null;
    /** The session record gone (with BENCH_LARGE_DELETE=1). */
    deleteSeconds?: number | null;
  };
  wallSeconds: number;
  environment: string;
}

export interface LargeSessionOptions {
  /** Jobs in the session (default BENCH_LARGE_JOBS or 100,000). */
  jobs?: number;
  /** Longest wait for the start's and the kill's backend work to converge, in seconds (default 3 h). */
  convergeSeconds?: number;
  /**
   * Wait for the backend to converge after the start and the kill (default true). `make bench`
   * does not: the calls' requests are the judged figure, and on the emulator converging 100,000
   * jobs takes longer than everything else together (`make bench-large` waits and reports it).
   */
  converge?: boolean;
  /** Also delete the session at the end and wait until it is gone (default BENCH_LARGE_DELETE=1, else no). */
  delete?: boolean;
  log?: (line: string) => void;
}

const APPEND_CHUNK = 1000; // MAX_APPEND_JOBS: the largest append the API takes

interface Scope {
  requests: Record<string, number>;
  /** Bytes of the answer's body as sent (gzipped when the client accepts it). */
  bytes: number;
}
const scope = new AsyncLocalStorage<Scope>();
let pluginInstalled = false;

/** Counts every AWS request made inside a scope into that scope (requests outside: not at all). */
function installScopedCounter(): void {
  if (pluginInstalled) return;
  pluginInstalled = true;
  useClientPlugin((client: AnyClient, service: string) => {
    (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: unknown) => {
          const counts = scope.getStore();
          if (counts) {
            const key = `${service}.${(context.commandName ?? "Unknown").replace(/Command$/, "")}`;
            counts.requests[key] = (counts.requests[key] ?? 0) + 1;
          }
          return next(args);
        },
      { step: "initialize", name: "benchScopedRequestCounter", override: true },
    );
  });
}

/** A gateway whose every request runs in a scope of its own; `last` is the latest request's. */
async function countingGateway(): Promise<{ url: string; last: () => Scope; close: () => Promise<void> }> {
  const listener = await createGatewayHandler();
  let latest: Scope = { requests: {}, bytes: 0 };
  const server: Server = createServer((request, response) => {
    const counts: Scope = { requests: {}, bytes: 0 };
    latest = counts;
    // The body's bytes as they go out (the gateway sends it in one end(), or in writes).
    const count = (chunk: unknown) => {
      if (typeof chunk === "string" || chunk instanceof Uint8Array) counts.bytes += Buffer.byteLength(chunk);
    };
    const { write, end } = response;
    response.write = ((chunk: unknown, ...rest: unknown[]) => {
      count(chunk);
      return (write as (...args: unknown[]) => boolean).call(response, chunk, ...rest);
    }) as typeof response.write;
    response.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== "function") count(chunk);
      return (end as (...args: unknown[]) => typeof response).call(response, chunk, ...rest);
    }) as typeof response.end;
    scope.run(counts, () => listener(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    last: () => latest,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One request as the turbine client makes it (gzip accepted), through node:http without a
 * deadline: on the emulator, a call over a 100,000-job session can take longer than fetch waits
 * for headers (5 minutes), though its requests are few. Answers the status; the body is drained.
 */
function send(
  base: string,
  method: string,
  path: string,
  authorization: string,
  body?: unknown,
): Promise<number> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method,
        headers: {
          authorization,
          "accept-encoding": "gzip",
          ...(payload !== undefined
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {}),
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const total = (byOperation: Record<string, number>) => Object.values(byOperation).reduce((a, b) => a + b, 0);

/** Runs the large session against a started local stack (bench/run.ts's, or this entry's own). */
export async function runLargeSession(
  _stack: Pick<Stack, "apiUrl">,
  options: LargeSessionOptions = {},
): Promise<LargeSessionResult> {
  const jobs = options.jobs ?? Number(process.env.BENCH_LARGE_JOBS ?? 100_000);
  const log = options.log ?? ((line: string) => console.error(line));
  const convergeMs = (options.convergeSeconds ?? 3 * 3600) * 1000;
  const waitToConverge = options.converge ?? true;
  const started = Date.now();
  installScopedCounter();
  const gateway = await countingGateway();
  try {
    const username = `bench-large-${Date.now()}`;
    const password = "bench-large-password-1";
    await createUser({ username, password });
    const client = new FoqusClient(gateway.url, username, password);
    await client.user(); // the authorizer's credential cache, outside the measurement

    /** One API call, counted alone. */
    const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const measure = async (call: string, method: string, path: string, body?: unknown) => {
      const before = Date.now();
      const status = await send(gateway.url, method, path, authorization, body);
      const { requests, bytes } = gateway.last();
      const byOperation = { ...requests };
      const figures: CallFigures = {
        call,
        status,
        requests: total(byOperation),
        byOperation,
        responseBytes: bytes,
        ms: Date.now() - before,
      };
      return figures;
    };

    await client.putSimulation("bench-large", "fake");
    const sid = await client.createSession();
    log(`large session ${sid}: appending ${jobs} jobs, ${APPEND_CHUNK} a call…`);
    const appendStarted = Date.now();
    const appends: CallFigures[] = [];
    for (let first = 0; first < jobs; first += APPEND_CHUNK) {
      const chunk = Array.from({ length: Math.min(APPEND_CHUNK, jobs - first) }, (_, k) => ({
        Simulation: "bench-large",
        Input: { i: first + k, x: (first + k) / jobs },
      }));
      const figures = await measure("POST /session/{sid}", "POST", `/session/${sid}`, chunk);
      if (figures.status !== 200) throw new Error(`append answered ${figures.status}`);
      appends.push(figures);
      if (appends.length % 10 === 0)
        log(`  ${first + chunk.length} appended (${((Date.now() - appendStarted) / 1000).toFixed(0)} s)`);
    }
    const appendSeconds = (Date.now() - appendStarted) / 1000;

    const calls: CallFigures[] = [];
    /** A call counted into `calls`, and logged as it completes. */
    const record = async (call: string, method: string, path: string) => {
      const figures = await measure(call, method, path);
      calls.push(figures);
      log(
        `  ${call}: ${figures.status}, ${figures.requests} AWS requests, ${figures.responseBytes} bytes, ${figures.ms} ms`,
      );
    };
    /**
     * Waits (unmeasured) until `done` holds, up to the convergence limit: seconds taken, or null.
     * Cheap reads (the session record, one index entry per state), not the summary, whose counts
     * of a 100,000-job session take moto minutes, blocking the backend meanwhile.
     */
    const converge = async (done: () => Promise<boolean>) => {
      if (!waitToConverge) return null;
      const since = Date.now();
      while (Date.now() - since < convergeMs) {
        if (await done()) return Number(((Date.now() - since) / 1000).toFixed(1));
        await sleep(Math.max(2000, jobs / 10));
      }
      return null;
    };
    const fanOutEnded = async () => (await findSession(username, sid))?.FanOut === undefined;
    const noneIn = async (states: readonly JobState[]) => {
      for (const state of states) {
        if ((await queryJobKeys(sid, { state, limit: 1 })).keys.length > 0) return false;
      }
      return true;
    };

    // The listing and the summary first, while no job changes state: the pages are then exact
    // (a job that changes state between two page reads may show on two pages, or none), and the
    // summary's counts do not compete on moto with a backend writing 100,000 jobs (after the
    // kill they took moto more than 30 minutes; on DynamoDB they are the same requests).
    log("listing…");
    await record("GET /session/{sid}", "GET", `/session/${sid}`);
    await record("GET /session/{sid}?page=1&rpp=1000", "GET", `/session/${sid}?page=1&rpp=1000`);
    const lastPage = Math.ceil(jobs / 1000);
    await record(
      `GET /session/{sid}?page=${lastPage}&rpp=1000 (the last)`,
      "GET",
      `/session/${sid}?page=${lastPage}&rpp=1000`,
    );
    await record(
      "GET /session/{sid}?page=past-the-end&rpp=1000",
      "GET",
      `/session/${sid}?page=${lastPage + 1}&rpp=1000`,
    );
    await record("GET /session/{sid}/summary", "GET", `/session/${sid}/summary`);

    log("start…");
    await record("POST /session/{sid}/start", "POST", `/session/${sid}/start`);
    const startSeconds = await converge(async () => (await fanOutEnded()) && (await noneIn(["create"])));
    if (waitToConverge) log(`  start converged in ${startSeconds ?? "more than the limit of"} s`);

    log("kill…");
    await record("POST /session/{sid}/kill", "POST", `/session/${sid}/kill`);
    const killPublishedSeconds = await converge(fanOutEnded);
    const killSeconds = await converge(() => noneIn(KILLABLE_STATES));
    if (waitToConverge) {
      log(`  kill's terminate events all sent in ${killPublishedSeconds ?? "more than the limit of"} s`);
      log(`  kill converged (every job terminate) in ${killSeconds ?? "more than the limit of"} s`);
    }

    let deleteSeconds: number | null | undefined;
    if (options.delete ?? process.env.BENCH_LARGE_DELETE === "1") {
      log("delete…");
      await record("DELETE /session/{sid}", "DELETE", `/session/${sid}`);
      deleteSeconds = await converge(async () => (await findSession(username, sid)) === undefined);
      log(`  delete converged in ${deleteSeconds ?? "more than the limit of"} s`);
    }

    const everyCall = [...appends, ...calls];
    const worst = everyCall.reduce((a, b) => (b.requests > a.requests ? b : a));
    return {
      jobs,
      maxRequestsPerCall: { value: worst.requests, call: worst.call },
      maxResponseBytes: Math.max(...everyCall.map((call) => call.responseBytes)),
      append: {
        calls: appends.length,
        maxRequests: Math.max(...appends.map((call) => call.requests)),
        meanRequests: Number((appends.reduce((a, b) => a + b.requests, 0) / appends.length).toFixed(1)),
        seconds: Number(appendSeconds.toFixed(1)),
      },
      calls,
      converged: {
        waited: waitToConverge,
        startSeconds,
        killPublishedSeconds,
        killSeconds,
        ...(deleteSeconds !== undefined ? { deleteSeconds } : {}),
      },
      wallSeconds: Number(((Date.now() - started) / 1000).toFixed(1)),
      environment:
        "local emulator (moto); requests per call are judged, wall times only reported. moto pages a Query at 1 MB of whole items where DynamoDB counts an index's own entries, so index reads (counts, paging offsets) take more requests here than on AWS.",
    };
  } finally {
    await gateway.close();
  }
}

async function main(): Promise<void> {
  const { startStack } = await import("../local/env/stack.ts");
  const stack = await startStack({ workers: 0, log: (line) => console.error(line) });
  try {
    const result = await runLargeSession(stack);
    console.log(JSON.stringify(result, null, 2));
    console.error(
      `\nmost AWS requests in one API call, ${result.jobs}-job session: ${result.maxRequestsPerCall.value} (${result.maxRequestsPerCall.call}); largest answer ${result.maxResponseBytes} bytes; ${result.wallSeconds} s on the emulator`,
    );
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench-large failed: ${(error as Error).stack ?? error}`);
      process.exit(1);
    },
  );
}
