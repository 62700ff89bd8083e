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
 * 4. The lifecycle's cost in dollars per 1,000 jobs by service (bench/cost.ts): the counted
 *    requests as billed (SNS per 64 KB chunk per message, SQS per 64 KB of payload, S3 by price
 *    class), DynamoDB request units, Lambda invocations timed in the local runtime at each
 *    function's configured memory (from the Terraform state), API Gateway requests; beside the
 *    same estimate for upstream's operation mix (goal ≤ 1/20 of it). EC2 worker time apart: the
 *    pool's price per worker-hour and the engine's busy fraction.
 * Also: the size of each Lambda bundle (goal ≤ 500 KB), each bundle's cold init in a fresh node
 * process against a bare `node -e ''` (goal ≤ 2×), and the worker's own CPU per job (goal ≤ 2 ms).
 * Every judged figure is written with its target and `met`; the README table is generated from
 * bench/results.json alone.
 */
import "../local/env/process-defaults.ts";
import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FoqusClient } from "../client/api-client.ts";
import { resultPages } from "../client/result-pages.ts";
import { useClientPlugin } from "../core/aws/clients.ts";
import {
  addCounts,
  countingPlugin,
  resetCounts as emptyCounts,
  filterCounts,
  newCounts,
  type RequestCounts,
  totalRequests,
} from "../core/aws/request-counter.ts";
import { config } from "../core/config.ts";
import type { TableSchema } from "../core/pricing/dynamodb-units.ts";
import { createUser } from "../core/users/user-store.ts";
import { startStack } from "../local/env/stack.ts";
import { observeInvocations } from "../local/runtime/lambda-context.ts";
import { readAppliedConfig } from "./applied-config.ts";
import {
  apiRequests,
  dynamodbUnits,
  type InvocationRecord,
  invocationRecord,
  lambdaUsage,
  measuredCost,
  type UnitsFrom,
  upstreamCost,
  workerTime,
} from "./cost.ts";
import { writeFinishedSession } from "./finished-session.ts";
import { runLargeSession } from "./large-session.ts";
import { writeReadmeTable } from "./readme-table.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
/** The warm worker's session, for its CPU per job (bench/run.ts lifecycle). */
const WARM_JOBS = 5 * JOBS;
/** DESIGN section 10 (issue 13): at most 3 AWS requests a job over the lifecycle. */
const REQUESTS_PER_JOB_TARGET = 3;
/** DESIGN section 10: the cost per 1,000 jobs, worker EC2 apart, at most 1/20 of upstream's. */
const COST_RATIO_TARGET = 1 / 20;
const CHUNK = 20;
/**
 * DESIGN section 10: every API call on a 100,000-job session within API Gateway's 30 s and 6 MB,
 * judged by the requests the call makes. 300 sequential requests at 20 ms each (DynamoDB, SQS
 * and SNS answer in-region in a few ms) is 6 s: a fifth of the integration timeout.
 */
const LARGE_CALL_TARGET = { maxRequests: 300, maxResponseBytes: 6 * 1024 * 1024 };
const WORKER_CONCURRENCY = 8;
const counts = newCounts();
// The tables' indexes, from the Terraform state once the stack is up: the rules count index writes.
const tableSchemas = new Map<string, TableSchema>();
useClientPlugin(countingPlugin(counts, { tables: tableSchemas }));
const invocations: InvocationRecord[] = [];
observeInvocations((invocation) => invocations.push(invocationRecord(invocation)));

/**
 * moto 5.2.1 answers ReturnConsumedCapacity with fixed figures, whatever the items' sizes: 1 per
 * PutItem, DeleteItem, Query and Scan, 0.5 per GetItem and UpdateItem, 1 per key of a
 * BatchGetItem, 1 per table of a BatchWriteItem, 2 per item of a TransactGetItems, and nothing
 * for TransactWriteItems (moto/dynamodb/responses.py). On the emulator the units priced are
 * DynamoDB's rules applied to the sizes the requests show; on AWS, what the responses report.
 * Both are written either way. BENCH_UNITS_FROM=consumed-capacity prices moto's figures instead.
 */
// Asked once the stack is up: its start sets the emulator's endpoint.
const unitsFrom = (): UnitsFrom =>
  (process.env.BENCH_UNITS_FROM as UnitsFrom | undefined) ??
  (config.awsEndpoint ? "item-size-rules" : "consumed-capacity");
const UNITS_REASON =
  "moto's ConsumedCapacity is a fixed placeholder per operation, not DynamoDB's rules (bench/run.ts)";

function resetCounts(): void {
  emptyCounts(counts);
  invocations.length = 0;
}

/**
 * What the local stand-ins for Lambda's event source mappings and EventBridge Scheduler do
 * (polling, deleting what was handled, firing due schedules): AWS does it, not the functions.
 * Kept apart from the functions' own requests, in the lifecycle and in the page cost alike.
 */
const TRIGGER_POLLING =
  /^(SQS\.(ReceiveMessage|DeleteMessageBatch|GetQueueAttributes|ChangeMessageVisibility(Batch)?)|Scheduler\.(ListSchedules|GetSchedule))$/;
const isTriggerPolling = (key: string) => TRIGGER_POLLING.test(key);

type WorkerReport = RequestCounts & { cpuMicros?: number; cpuMicrosFromFirstJob?: number; jobs?: number };

/** Appends `jobs` jobs in chunks with a start after each, and reads their results to the last. */
async function runSession(client: FoqusClient, sid: string, jobs = JOBS) {
  const started = Date.now();
  const ids: string[] = [];
  for (let first = 0; first < jobs; first += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, jobs - first) }, (_, k) => ({
      Simulation: "bench-fake",
      Input: { i: first + k },
    }));
    ids.push(...(await client.append(sid, chunk)));
    await client.start(sid);
  }
  const seen = new Set<string>();
  const times: { Running: string | null; Finished: string | null }[] = [];
  for await (const poll of resultPages(client, sid)) {
    for (const record of poll.records) {
      if (!seen.has(record.Id)) times.push({ Running: record.Running, Finished: record.Finished });
      seen.add(record.Id);
    }
    if (seen.size >= ids.length) break;
    if (Date.now() - started > 15 * 60_000)
      throw new Error(`only ${seen.size}/${ids.length} jobs finished in 15 minutes`);
  }
  return { ids, times };
}

const readReport = (file: string): WorkerReport =>
  existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as WorkerReport) : newCounts();

/** The worker's counts so far (worker/bench-counts.ts: SIGUSR2), the worker going on. */
async function workerSnapshot(worker: ChildProcess, file: string): Promise<WorkerReport> {
  rmSync(file, { force: true });
  worker.kill("SIGUSR2");
  for (let waited = 0; !existsSync(file); waited += 50) {
    if (waited > 30_000) throw new Error("the worker wrote no snapshot of its counts in 30 s");
    await sleep(50);
  }
  return readReport(file);
}

/** Stops the worker (SIGTERM) and returns its final counts. */
async function stopWorker(worker: ChildProcess, file: string): Promise<WorkerReport> {
  await new Promise<void>((resolve) => {
    worker.once("exit", () => resolve());
    worker.kill("SIGTERM");
  });
  return readReport(file);
}

/** CPU per job, in ms, between two reports of one worker (from its first job on). */
function cpuMsPerJob(from: WorkerReport, to: WorkerReport): number | undefined {
  if (to.cpuMicrosFromFirstJob === undefined || !to.jobs) return undefined;
  const jobs = to.jobs - (from.jobs ?? 0);
  const micros = to.cpuMicrosFromFirstJob - (from.cpuMicrosFromFirstJob ?? 0);
  return jobs > 0 ? Number((micros / 1000 / jobs).toFixed(2)) : undefined;
}

async function lifecycle(stack: Awaited<ReturnType<typeof startStack>>) {
  const client = new FoqusClient(stack.apiUrl, stack.user, stack.password);
  await client.putSimulation("bench-fake", "fake");
  const sid = await client.createSession();
  const workDir = mkdtempSync(join(tmpdir(), "foqus-bench-"));
  const workerCounts = join(workDir, "worker-counts.json");
  resetCounts();
  const worker = stack.addWorker({
    FOQUS_REQUEST_COUNT_FILE: workerCounts,
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
  });
  const started = Date.now();
  const { ids, times } = await runSession(client, sid);
  const seconds = (Date.now() - started) / 1000;
  const apiAndProcessor: RequestCounts = structuredClone(counts);
  const invoked = [...invocations];
  // The session's figures are the worker's as it was when the session ended; the same worker
  // then runs a second session of the same shape, warm, for its CPU per job at steady state:
  // WARM_JOBS of them, as 200 jobs' CPU (a few hundred ms) varies by a fifth from run to run.
  const workerSide = await workerSnapshot(worker, workerCounts);
  await runSession(client, await client.createSession(), WARM_JOBS);
  const afterWarm = await stopWorker(worker, workerCounts);
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
  // The same split with what each request is billed as: functions and worker priced, polling apart.
  const billable = addCounts(
    filterCounts(apiAndProcessor, (key) => !isTriggerPolling(key)),
    {
      ...workerSide,
      itemsRead: 0,
    },
  );
  const pollingBillable = filterCounts(apiAndProcessor, isTriggerPolling);
  const perJob = (n: number) => Number((n / ids.length).toFixed(2));
  return {
    billable,
    pollingBillable,
    invocations: invoked,
    times,
    wallSeconds: seconds,
    jobs: ids.length,
    seconds: Number(seconds.toFixed(1)),
    jobsPerSecond: Number((ids.length / seconds).toFixed(2)),
    // The fake engine does no work, so this is the worker's own CPU per job (idle polling
    // included). Judged: a warm worker's, over the second session (a pool's worker runs for hours).
    // Reported apart, both once per process: what a fresh worker spent before its first job (the
    // SDK's lazy loading, first connections), and its first session's jobs, which run while V8
    // still compiles the SDK's request path.
    workerCpuMsPerJob: cpuMsPerJob(workerSide, afterWarm),
    workerFirstJobsCpuMsPerJob: cpuMsPerJob(newCounts(), workerSide),
    workerStartupCpuMs:
      workerSide.cpuMicros !== undefined && workerSide.cpuMicrosFromFirstJob !== undefined
        ? Number(((workerSide.cpuMicros - workerSide.cpuMicrosFromFirstJob) / 1000).toFixed(1))
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

type Lifecycle = Awaited<ReturnType<typeof lifecycle>>;

/** The lifecycle's dollars per 1,000 jobs, upstream's beside them, and the EC2 worker time apart. */
function lifecycleCost(life: Lifecycle, applied: Awaited<ReturnType<typeof readAppliedConfig>>) {
  const perJob = (n: number, digits = 3) => Number((n / life.jobs).toFixed(digits));
  const from = unitsFrom();
  const units = dynamodbUnits(life.billable.capacity ?? {}, life.billable.requests, from, UNITS_REASON);
  const lambda = lambdaUsage(life.invocations, applied.functions);
  const api = apiRequests(life.invocations);
  const ours = measuredCost(life.billable, units, lambda, api, life.jobs);
  const upstream = upstreamCost(api / life.jobs);
  const pollingUnits = dynamodbUnits(
    life.pollingBillable.capacity ?? {},
    life.pollingBillable.requests,
    from,
    UNITS_REASON,
  );
  const polling = measuredCost(life.pollingBillable, pollingUnits, {}, 0, life.jobs);
  const ratio = Number((ours.totalWithoutLambda / upstream.totalWithoutLambda).toFixed(4));
  const pool = applied.workerPools.linux ?? Object.values(applied.workerPools)[0];
  if (!pool) throw new Error("The Terraform state has no worker pool (aws_launch_template).");
  return {
    costPer1000Jobs: {
      currency: "USD",
      prices: "us-east-1 list prices, core/pricing/prices.json (each service's source and date there)",
      ...ours,
      judged: "totalWithoutLambda, against upstream's: Lambda is not judged on the emulator",
      upstream,
      ratio,
      target: COST_RATIO_TARGET,
      met: ratio <= COST_RATIO_TARGET,
      billedRequestsPerJob: Object.fromEntries(
        Object.entries(life.billable.billed ?? {}).map(([key, n]) => [key, perJob(n)]),
      ),
      dynamodbUnitsPerJob: {
        priced: {
          read: perJob(units.read),
          write: perJob(units.write),
          from,
          ...(from === "item-size-rules" ? { reason: UNITS_REASON } : {}),
        },
        byOperation: Object.fromEntries(
          Object.entries(units.byOperation).map(([key, u]) => [
            key,
            { read: perJob(u.read), write: perJob(u.write), unitsSource: u.unitsSource },
          ]),
        ),
        consumedCapacityReported: {
          read: perJob(units.consumedCapacityReported.read),
          write: perJob(units.consumedCapacityReported.write),
          requestsReporting: units.consumedCapacityReported.requestsReporting,
          requests: units.consumedCapacityReported.requests,
        },
        byItemSizeRules: {
          read: perJob(units.byItemSizeRules.read),
          write: perJob(units.byItemSizeRules.write),
          requestsWithSizeNotVisible: units.byItemSizeRules.sizeNotVisible,
          writesWithIndexesUnknown: units.byItemSizeRules.indexesUnknown,
        },
      },
      lambda: {
        judged: false,
        note: "not judged on the emulator: durations are in-process wall times against moto, priced at each function's configured memory (Terraform state); API Gateway caches authorizer results, the local gateway does not",
        byFunction: Object.fromEntries(
          Object.entries(lambda).map(([name, f]) => [
            name,
            {
              invocationsPerJob: perJob(f.invocations),
              meanMs: f.meanMs,
              memoryMb: f.memoryMb,
              architecture: f.architecture,
            },
          ]),
        ),
      },
      apiRequestsPerJob: perJob(api),
      emulatedTriggerPolling: {
        total: polling.total,
        note: "what the local SQS triggers' polling costs, apart: on AWS, Lambda's event-source mappings poll (billed as SQS requests) on their own schedule",
      },
    },
    workerTime: workerTime(life.times, life.wallSeconds, WORKER_CONCURRENCY, pool.instanceType),
  };
}

/** The cost per 1,000 jobs as printed: each service beside upstream's. */
function costTable(
  cost: ReturnType<typeof lifecycleCost>["costPer1000Jobs"],
  worker: ReturnType<typeof lifecycleCost>["workerTime"],
): string {
  const dollars = (n: number) => `$${n.toFixed(6)}`;
  const lines = [`Dollars per 1,000 jobs (${cost.prices}):`];
  lines.push(
    `  ${"service".padEnd(12)} ${"this system".padStart(12)} ${"upstream".padStart(12)}   usage here`,
  );
  for (const [service, line] of Object.entries(cost.byService)) {
    const upstream = cost.upstream.byService[service as keyof typeof cost.byService];
    const flag = service === "Lambda" ? "  (not judged on the emulator)" : "";
    lines.push(
      `  ${service.padEnd(12)} ${dollars(line.dollars).padStart(12)} ${dollars(upstream.dollars).padStart(12)}   ${line.usage}${flag}`,
    );
  }
  lines.push(
    `  ${"total".padEnd(12)} ${dollars(cost.total).padStart(12)} ${dollars(cost.upstream.total).padStart(12)}`,
    `  without Lambda ${dollars(cost.totalWithoutLambda)} vs ${dollars(cost.upstream.totalWithoutLambda)}: ratio ${cost.ratio} (target ≤ ${Number(cost.target.toFixed(3))}, ${cost.met ? "met" : "not met"})`,
    `  DynamoDB units priced from ${cost.dynamodbUnitsPerJob.priced.from}; moto's ConsumedCapacity a job: ${cost.dynamodbUnitsPerJob.consumedCapacityReported.write} write + ${cost.dynamodbUnitsPerJob.consumedCapacityReported.read} read, by rule ${cost.dynamodbUnitsPerJob.byItemSizeRules.write} + ${cost.dynamodbUnitsPerJob.byItemSizeRules.read}`,
    `  emulated trigger polling, apart: ${dollars(cost.emulatedTriggerPolling.total)}; not priced: ${cost.unpriced.join(", ") || "nothing"}`,
    `  upstream assumptions: ${Object.entries(cost.upstream.assumptions)
      .map(([k, v]) => `${k}: ${v}`)
      .join("; ")}`,
    `EC2 worker time, apart: ${worker.instanceType} at $${worker.dollarsPerWorkerHour} a worker-hour; engine busy ${(worker.engineBusyFraction * 100).toFixed(2)}% of ${worker.concurrency} slots over ${worker.wallSeconds.toFixed(1)} s`,
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const stackStarted = Date.now();
  const stack = await startStack({ workers: 0, log: (line) => console.log(line) });
  // The same start `make local` makes (moto, terraform apply, the API, the backend triggers).
  const stackReadySeconds = Number(((Date.now() - stackStarted) / 1000).toFixed(1));
  try {
    const applied = await readAppliedConfig(stack.terraformDir);
    for (const [name, schema] of applied.tables) tableSchemas.set(name, schema);
    console.log(`\n[1/5] lifecycle of ${JOBS} jobs through one worker (fake engine)…`);
    const life = await lifecycle(stack);
    console.log(`\n[2/5] result page cost: 1,000 vs 20,000 finished jobs…`);
    const small = await pageCost(stack, 1_000);
    const large = await pageCost(stack, 20_000);
    const ratio = {
      requests: Number((large.requests / small.requests).toFixed(3)),
      itemsRead: Number((large.itemsRead / small.itemsRead).toFixed(3)),
    };
    console.log("\n[3/5] bundle sizes…");
    const bundles = bundleSizes();
    console.log("\n[4/5] foqus engine overhead per job, with the real FOQUS…");
    const foqus = foqusOverhead();
    const init = bundles ? coldInit(Object.keys(bundles)) : undefined;
    const cost = lifecycleCost(life, applied);
    const largeJobs = Number(process.env.BENCH_LARGE_JOBS ?? 100_000);
    let largeSession: Awaited<ReturnType<typeof runLargeSession>> | undefined;
    let largeSessionError: string | undefined;
    let largeSessionRunning = largeJobs > 0;
    const largestBundle = bundles ? Math.max(...Object.values(bundles)) : undefined;
    const largestInit = init ? Math.max(...Object.values(init.ratios)) : undefined;
    // Read when written: the figures so far.
    const assemble = () => ({
      date: new Date().toISOString(),
      localStackReadySeconds: { value: stackReadySeconds, target: 45, met: stackReadySeconds <= 45 },
      environment: "local emulator (moto); counts are judged, wall times only reported",
      requestsPerJob: {
        value: life.requestsPerJob,
        target: REQUESTS_PER_JOB_TARGET,
        met: life.requestsPerJob <= REQUESTS_PER_JOB_TARGET,
        functions: life.functionsPerJob,
        worker: life.workerPerJob,
        byOperation: life.byOperation,
        emulatedTriggerPolling: life.triggerPolling,
        emulatedTriggerPollingPerJob: life.triggerPollingPerJob,
      },
      resultPageCost: {
        small,
        large,
        ratio,
        target: 1.1,
        met: ratio.requests <= 1.1 && ratio.itemsRead <= 1.1,
      },
      workerThroughput: {
        jobsPerSecond: life.jobsPerSecond,
        jobs: life.jobs,
        seconds: life.seconds,
        engine: "fake",
        workers: 1,
      },
      bundleKiB: {
        sizes: bundles,
        largest: largestBundle,
        targetKiB: 500,
        met: largestBundle === undefined ? undefined : largestBundle <= 500,
      },
      coldInit: init
        ? {
            bareNodeMs: init.bareNodeMs,
            ratios: init.ratios,
            largest: largestInit,
            target: 2,
            met: largestInit! <= 2,
          }
        : undefined,
      workerCpuMsPerJob: {
        value: life.workerCpuMsPerJob,
        measured: `a warm worker: its second session, of ${WARM_JOBS} jobs`,
        firstJobsMsPerJob: life.workerFirstJobsCpuMsPerJob,
        startupMs: life.workerStartupCpuMs,
        target: 2,
        met: life.workerCpuMsPerJob === undefined ? undefined : life.workerCpuMsPerJob <= 2,
      },
      foqusEngineOverheadMs:
        typeof foqus === "string"
          ? { note: foqus }
          : {
              warm: foqus.warmOverheadMs,
              cold: foqus.coldOverheadMs,
              jobs: foqus.jobs,
              targetWarm: 50,
              met: foqus.warmOverheadMs <= 50,
            },
      costPer1000Jobs: cost.costPer1000Jobs,
      workerTime: cost.workerTime,
      largeSession: largeSessionError
        ? { jobs: largeJobs, error: largeSessionError }
        : largeSessionRunning
          ? { jobs: largeJobs, error: "not finished: make bench stopped during its fifth part" }
          : largeSession && {
              jobs: largeSession.jobs,
              maxRequestsPerCall: largeSession.maxRequestsPerCall,
              maxResponseBytes: largeSession.maxResponseBytes,
              target: LARGE_CALL_TARGET,
              met:
                largeSession.maxRequestsPerCall.value <= LARGE_CALL_TARGET.maxRequests &&
                largeSession.maxResponseBytes <= LARGE_CALL_TARGET.maxResponseBytes,
              append: largeSession.append,
              calls: largeSession.calls.map(({ call, status, requests, responseBytes, ms }) => ({
                call,
                status,
                requests,
                responseBytes,
                ms,
              })),
              wallSeconds: largeSession.wallSeconds,
              environment: largeSession.environment,
            },
    });
    const writeResults = () => {
      mkdirSync("bench", { recursive: true });
      writeFileSync("bench/results.json", `${JSON.stringify(assemble(), null, 2)}\n`);
      // The README's table from the file just written, never from figures in memory.
      writeReadmeTable(JSON.parse(readFileSync("bench/results.json", "utf8")));
    };
    // Parts 1–4 are written before the fifth, which takes most of the run: stopping it keeps them.
    writeResults();
    if (largeJobs > 0) {
      console.log(
        `\n[5/5] a ${largeJobs.toLocaleString("en")}-job session: append, listing, summary, start, kill, each call's own AWS requests (BENCH_LARGE_JOBS=0 skips)…`,
      );
      // A failure here is written as such: the figures of the other parts are still kept.
      largeSession = await runLargeSession(stack, {
        jobs: largeJobs,
        converge: false,
        log: (line) => console.log(line),
      }).catch((error: unknown) => {
        largeSessionError = error instanceof Error ? error.message : String(error);
        console.log(`  the large session failed: ${largeSessionError}`);
        return undefined;
      });
      largeSessionRunning = false;
      writeResults();
    }
    console.log(`
AWS requests per job (target ≤ ${REQUESTS_PER_JOB_TARGET}):      ${life.requestsPerJob}  (functions ${life.functionsPerJob}, worker ${life.workerPerJob}; emulated trigger polling apart: ${life.triggerPollingPerJob})
Result page cost 20,000 ÷ 1,000 (≤ 1.1): requests ${ratio.requests}, items read ${ratio.itemsRead}  (${small.requests} req/${small.itemsRead} items vs ${large.requests} req/${large.itemsRead} items; wall ${small.wallMs} ms vs ${large.wallMs} ms, not judged)
Jobs per second, one worker, fake:       ${life.jobsPerSecond}
Worker CPU per job, ms (target ≤ 2):     ${life.workerCpuMsPerJob ?? "n/a"} warm (its second session, ${WARM_JOBS} jobs; its first ${JOBS} jobs ${life.workerFirstJobsCpuMsPerJob ?? "n/a"} ms each, start-up ${life.workerStartupCpuMs ?? "n/a"} ms: once per process)
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
Most AWS requests in one API call (≤ ${LARGE_CALL_TARGET.maxRequests}): ${
      largeSession
        ? `${largeSession.maxRequestsPerCall.value} (${largeSession.maxRequestsPerCall.call}), ${largeSession.jobs}-job session; largest answer ${largeSession.maxResponseBytes} bytes (≤ 6 MB)`
        : (largeSessionError ?? "skipped (BENCH_LARGE_JOBS=0)")
    }

${costTable(cost.costPer1000Jobs, cost.workerTime)}
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
