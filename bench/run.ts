/**
 * `make bench`: the figures of DESIGN section 10 that the emulator can give, printed and
 * written to bench/results.json.
 *
 * 1. AWS requests per job over a whole lifecycle (append in chunks of 20 with start after each,
 *    worker, update processor, result pages read as FOQUS reads them), counted by SDK
 *    middleware per service and operation in every process; the local SQS triggers' polling
 *    (what Lambda's event-source mapping does on AWS) is listed apart.
 * 2. The cost of closing and reading one result page in a session of 1,000 finished jobs and in
 *    one of 20,000, as AWS requests and items read, and their ratio (goal ≤ 1.1). Wall times are
 *    reported but not judged: moto scans whole tables, so its timings say nothing about DynamoDB.
 * 3. Jobs per second through one worker with the fake engine.
 * Also: the size of each Lambda bundle (goal ≤ 500 KB), each bundle's cold init in a fresh node
 * process against a bare `node -e ''` (goal ≤ 2×), and the worker's own CPU per job (goal ≤ 2 ms).
 */
import "../local/env/process-defaults.ts";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FoqusClient } from "../client/api-client.ts";
import { resultPages } from "../client/result-pages.ts";
import { useClientPlugin } from "../core/aws/clients.ts";
import {
  addCounts,
  countingPlugin,
  newCounts,
  type RequestCounts,
  totalRequests,
} from "../core/aws/request-counter.ts";
import { createUser } from "../core/users/user-store.ts";
import { startStack } from "../local/env/stack.ts";
import { writeFinishedSession } from "./finished-session.ts";
import { writeReadmeTable } from "./readme-table.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const CHUNK = 20;
const counts = newCounts();
useClientPlugin(countingPlugin(counts));

function resetCounts(): void {
  counts.requests = {};
  counts.itemsRead = 0;
}

/**
 * What the local stand-ins for Lambda's event source mappings and EventBridge Scheduler do
 * (polling, deleting what was handled, firing due schedules): AWS does it, not the functions.
 * Kept apart from the functions' own requests, in the lifecycle and in the page cost alike.
 */
const TRIGGER_POLLING =
  /^(SQS\.(ReceiveMessage|DeleteMessageBatch|GetQueueAttributes|ChangeMessageVisibility(Batch)?)|Scheduler\.(ListSchedules|GetSchedule))$/;
const isTriggerPolling = (key: string) => TRIGGER_POLLING.test(key);

async function lifecycle(stack: Awaited<ReturnType<typeof startStack>>) {
  const client = new FoqusClient(stack.apiUrl, stack.user, stack.password);
  await client.putSimulation("bench-fake", "fake");
  const sid = await client.createSession();
  const workDir = mkdtempSync(join(tmpdir(), "foqus-bench-"));
  const workerCounts = join(workDir, "worker-counts.json");
  resetCounts();
  const worker = stack.addWorker({ FOQUS_REQUEST_COUNT_FILE: workerCounts, WORKER_CONCURRENCY: "8" });
  const started = Date.now();
  const ids: string[] = [];
  for (let first = 0; first < JOBS; first += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, JOBS - first) }, (_, k) => ({
      Simulation: "bench-fake",
      Input: { i: first + k },
    }));
    ids.push(...(await client.append(sid, chunk)));
    await client.start(sid);
  }
  const seen = new Set<string>();
  for await (const poll of resultPages(client, sid)) {
    for (const record of poll.records) seen.add(record.Id);
    if (seen.size >= ids.length) break;
    if (Date.now() - started > 15 * 60_000)
      throw new Error(`only ${seen.size}/${ids.length} jobs finished in 15 minutes`);
  }
  const seconds = (Date.now() - started) / 1000;
  const apiAndProcessor: RequestCounts = { requests: { ...counts.requests }, itemsRead: counts.itemsRead };
  await new Promise<void>((resolve) => {
    worker.once("exit", () => resolve());
    worker.kill("SIGTERM");
  });
  type WorkerReport = RequestCounts & { cpuMicros?: number; jobs?: number };
  const workerSide: WorkerReport = existsSync(workerCounts)
    ? (JSON.parse(readFileSync(workerCounts, "utf8")) as WorkerReport)
    : newCounts();
  rmSync(workDir, { recursive: true, force: true });

  const functions = Object.fromEntries(
    Object.entries(apiAndProcessor.requests).filter(([key]) => !isTriggerPolling(key)),
  );
  const polling = Object.fromEntries(
    Object.entries(apiAndProcessor.requests).filter(([key]) => isTriggerPolling(key)),
  );
  const all = addCounts(
    { requests: { ...functions }, itemsRead: 0 },
    { requests: workerSide.requests, itemsRead: 0 },
  );
  const perJob = (n: number) => Number((n / ids.length).toFixed(2));
  return {
    jobs: ids.length,
    seconds: Number(seconds.toFixed(1)),
    jobsPerSecond: Number((ids.length / seconds).toFixed(2)),
    // The fake engine does no work, so this is the worker's own CPU per job (idle polling included).
    workerCpuMsPerJob:
      workerSide.cpuMicros !== undefined && workerSide.jobs
        ? Number((workerSide.cpuMicros / 1000 / workerSide.jobs).toFixed(2))
        : undefined,
    requestsPerJob: perJob(totalRequests(all)),
    functionsPerJob: perJob(totalRequests({ requests: functions, itemsRead: 0 })),
    workerPerJob: perJob(totalRequests(workerSide)),
    triggerPollingPerJob: perJob(totalRequests({ requests: polling, itemsRead: 0 })),
    byOperation: Object.fromEntries(
      Object.entries(all.requests)
        .sort(([, a], [, b]) => b - a)
        .map(([key, n]) => [key, perJob(n)]),
    ),
    triggerPolling: Object.fromEntries(Object.entries(polling).map(([key, n]) => [key, perJob(n)])),
  };
}

async function pageCost(stack: Awaited<ReturnType<typeof startStack>>, finishedJobs: number) {
  const username = `bench-${finishedJobs}-${Date.now()}`;
  const password = "bench-password-1";
  await createUser({ username, password });
  const sid = await writeFinishedSession(username, finishedJobs);
  const client = new FoqusClient(stack.apiUrl, username, password);
  await client.user(); // authenticate once, outside the measurement
  resetCounts();
  const started = Date.now();
  const page = await client.closePage(sid);
  const records = await client.readPage(sid, page);
  const wallMs = Date.now() - started;
  return {
    finishedJobs,
    recordsInPage: records.length,
    // Only the close's and the read's own requests: the triggers poll on in the background.
    requests: totalRequests(counts, (key) => !isTriggerPolling(key)),
    itemsRead: counts.itemsRead,
    byOperation: { ...counts.requests },
    wallMs,
  };
}

/** Median wall time of `node <args>` over five runs, in milliseconds. */
function medianNodeMs(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, args, { stdio: "ignore" });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[2]!;
}

/** Cold init of each bundle in a fresh node process, as a multiple of a bare `node -e ''`. */
function coldInit(bundles: string[]): { bareNodeMs: number; ratios: Record<string, number> } {
  const bareNodeMs = medianNodeMs(["-e", ""]);
  const ratios: Record<string, number> = {};
  for (const name of bundles) {
    const ms = medianNodeMs([
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(`${process.cwd()}/dist/lambda/${name}.mjs`)})`,
    ]);
    ratios[name] = Number((ms / bareNodeMs).toFixed(2));
  }
  return { bareNodeMs: Number(bareNodeMs.toFixed(1)), ratios };
}

/** The foqus engine's overhead per job beyond the solve (bench/foqus-overhead.ts), if FOQUS is here. */
function foqusOverhead(): { warmOverheadMs: number; coldOverheadMs: number; jobs: number } | string {
  try {
    const output = execFileSync(process.execPath, ["--import", "tsx", "bench/foqus-overhead.ts"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return JSON.parse(output.trim().split("\n").pop() ?? "{}");
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    return `not measured: ${stderr.trim().split("\n").pop() ?? (error as Error).message}`;
  }
}

function bundleSizes(): Record<string, number> | undefined {
  try {
    execFileSync(process.execPath, ["--import", "tsx", "handlers/build.ts"], { stdio: "ignore" });
    const sizes = JSON.parse(readFileSync("dist/lambda/sizes.json", "utf8")) as Record<string, number>;
    return Object.fromEntries(Object.entries(sizes).map(([name, bytes]) => [name, Math.round(bytes / 1024)]));
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const stackStarted = Date.now();
  const stack = await startStack({ workers: 0, log: (line) => console.log(line) });
  // The same start `make local` makes (moto, terraform apply, the API, the backend triggers).
  const stackReadySeconds = Number(((Date.now() - stackStarted) / 1000).toFixed(1));
  try {
    console.log(`\n[1/4] lifecycle of ${JOBS} jobs through one worker (fake engine)…`);
    const life = await lifecycle(stack);
    console.log(`\n[2/4] result page cost: 1,000 vs 20,000 finished jobs…`);
    const small = await pageCost(stack, 1_000);
    const large = await pageCost(stack, 20_000);
    const ratio = {
      requests: Number((large.requests / small.requests).toFixed(3)),
      itemsRead: Number((large.itemsRead / small.itemsRead).toFixed(3)),
    };
    console.log("\n[3/4] bundle sizes…");
    const bundles = bundleSizes();
    console.log("\n[4/4] foqus engine overhead per job, with the real FOQUS…");
    const foqus = foqusOverhead();
    const init = bundles ? coldInit(Object.keys(bundles)) : undefined;
    const results = {
      date: new Date().toISOString(),
      localStackReadySeconds: { value: stackReadySeconds, target: 45 },
      environment: "local emulator (moto); counts are judged, wall times only reported",
      requestsPerJob: {
        value: life.requestsPerJob,
        target: 8,
        functions: life.functionsPerJob,
        worker: life.workerPerJob,
        byOperation: life.byOperation,
        emulatedTriggerPolling: life.triggerPolling,
        emulatedTriggerPollingPerJob: life.triggerPollingPerJob,
      },
      resultPageCost: { small, large, ratio, target: 1.1 },
      workerThroughput: {
        jobsPerSecond: life.jobsPerSecond,
        jobs: life.jobs,
        seconds: life.seconds,
        engine: "fake",
        workers: 1,
      },
      bundleKiB: { sizes: bundles, targetKiB: 500 },
      coldInit: init ? { bareNodeMs: init.bareNodeMs, ratios: init.ratios, target: 2 } : undefined,
      workerCpuMsPerJob: { value: life.workerCpuMsPerJob, target: 2 },
      foqusEngineOverheadMs:
        typeof foqus === "string"
          ? { note: foqus }
          : { warm: foqus.warmOverheadMs, cold: foqus.coldOverheadMs, jobs: foqus.jobs, targetWarm: 50 },
    };
    mkdirSync("bench", { recursive: true });
    writeFileSync("bench/results.json", `${JSON.stringify(results, null, 2)}\n`);
    writeReadmeTable(results);
    console.log(`
AWS requests per job (target ≤ 8):      ${life.requestsPerJob}  (functions ${life.functionsPerJob}, worker ${life.workerPerJob}; emulated trigger polling apart: ${life.triggerPollingPerJob})
Result page cost 20,000 ÷ 1,000 (≤ 1.1): requests ${ratio.requests}, items read ${ratio.itemsRead}  (${small.requests} req/${small.itemsRead} items vs ${large.requests} req/${large.itemsRead} items; wall ${small.wallMs} ms vs ${large.wallMs} ms, not judged)
Jobs per second, one worker, fake:       ${life.jobsPerSecond}
Worker CPU per job, ms (target ≤ 2):     ${life.workerCpuMsPerJob ?? "n/a"}
Cold init ÷ bare node (target ≤ 2):      ${
      init
        ? Object.entries(init.ratios)
            .map(([n, r]) => `${n} ${r}`)
            .join(", ")
        : "n/a"
    } (bare node ${init?.bareNodeMs} ms)
Bundle sizes (KiB, target ≤ 500):        ${
      bundles
        ? Object.entries(bundles)
            .map(([n, k]) => `${n} ${k}`)
            .join(", ")
        : "build failed"
    }
FOQUS engine overhead per job, ms:      ${
      typeof foqus === "string"
        ? foqus
        : `warm ${foqus.warmOverheadMs} (target ≤ 50), one process per job ${foqus.coldOverheadMs} (reported) over ${foqus.jobs} jobs`
    }
Local stack ready, s (target ≤ 45):      ${stackReadySeconds}
Written to bench/results.json and the README's benchmark table`);
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
