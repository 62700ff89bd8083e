/**
 * @module local/demo
 * `make demo`: brings the local stack up, drives a real session through the public API the way
 * FOQUS does, and stops everything. Exits 0 only if every job of the first session appears in
 * the result pages exactly once.
 *
 *   1. create the sample simulation (a CSTR reactor model run by the command engine);
 *   2. append 500 jobs in chunks of 20, calling start after each chunk, as FOQUS does;
 *   3. watch it with a live progress bar while reading result pages as they close;
 *   4. start a second session of slow jobs and kill it mid-run;
 *   5. print a summary table.
 */
import "./env/process-defaults.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { FoqusClient, type JobRecord } from "../client/api-client.ts";
import { resultPages } from "../client/result-pages.ts";
import { type Stack, startStack } from "./env/stack.ts";

const JOBS = Number(process.env.DEMO_JOBS ?? 500);
const CHUNK = 20;
const TIMEOUT_MS = 10 * 60_000;

function bar(counts: Record<string, number>, total: number): string {
  const done = (counts.success ?? 0) + (counts.error ?? 0) + (counts.terminate ?? 0);
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  const cells = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
  const parts = ["create", "submit", "setup", "running", "success", "error", "terminate"]
    .filter((state) => counts[state])
    .map((state) => `${state} ${counts[state]}`);
  return `  [${cells}] ${done}/${total}  ${parts.join(" · ")}`;
}

function countStates(jobs: JobRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const job of jobs) counts[job.State] = (counts[job.State] ?? 0) + 1;
  return counts;
}

async function runMainSession(
  client: FoqusClient,
): Promise<{ ids: string[]; records: JobRecord[]; pages: number }> {
  await client.putSimulation("cstr-demo", "cstr");
  const sid = await client.createSession();
  console.log(`session ${sid}: appending ${JOBS} jobs in chunks of ${CHUNK}, start after each chunk`);
  const ids: string[] = [];
  for (let first = 0; first < JOBS; first += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, JOBS - first) }, (_, k) => {
      const i = first + k;
      return {
        Simulation: "cstr-demo",
        Input: { T: 300 + (i % 100), tau: 0.5 + Math.floor(i / 100) * 0.5 },
        Reset: false,
      };
    });
    ids.push(...(await client.append(sid, chunk)));
    await client.start(sid);
  }

  // Read result pages the way FOQUS does: close a page, read it if it is new.
  const records: JobRecord[] = [];
  let pagesRead = 0;
  const deadline = Date.now() + TIMEOUT_MS;
  let lastLine = "";
  for await (const poll of resultPages(client, sid)) {
    records.push(...poll.records);
    pagesRead = poll.page;
    const line = bar(countStates(await client.jobs(sid)), ids.length);
    if (line !== lastLine) {
      process.stdout.write(process.stdout.isTTY ? `\r${line}` : `${line}\n`);
      lastLine = line;
    }
    if (records.length >= ids.length) break;
    if (Date.now() > deadline) throw new Error(`timed out with ${records.length}/${ids.length} results read`);
  }
  if (process.stdout.isTTY) process.stdout.write("\n");
  return { ids, records, pages: pagesRead };
}

async function runKilledSession(client: FoqusClient): Promise<Record<string, number>> {
  await client.putSimulation("slow-demo", "fake");
  const sid = await client.createSession();
  await client.append(
    sid,
    Array.from({ length: 40 }, (_, i) => ({ Simulation: "slow-demo", Input: { i, delayMs: 30_000 } })),
  );
  await client.start(sid);
  const deadline = Date.now() + 60_000;
  while (!(await client.jobs(sid)).some((job) => job.State === "running")) {
    if (Date.now() > deadline) throw new Error("no job of the second session started running within 60 s");
    await sleep(250);
  }
  console.log(`session ${sid}: jobs are running; killing it`);
  await client.kill(sid);
  const killDeadline = Date.now() + 60_000;
  for (;;) {
    const counts = countStates(await client.jobs(sid));
    const unfinished = Object.entries(counts)
      .filter(([state]) => !["success", "error", "terminate"].includes(state))
      .reduce((sum, [, n]) => sum + n, 0);
    if (unfinished === 0) return counts;
    if (Date.now() > killDeadline) throw new Error(`kill did not end every job: ${JSON.stringify(counts)}`);
    await sleep(250);
  }
}

function summarize(ids: string[], records: JobRecord[], pages: number): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const record of records) seen.set(record.Id, (seen.get(record.Id) ?? 0) + 1);
  const missing = ids.filter((id) => !seen.has(id));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const strangers = [...seen.keys()].filter((id) => !ids.includes(id));
  if (missing.length) problems.push(`${missing.length} jobs never appeared in a result page`);
  if (doubled.length) problems.push(`${doubled.length} jobs appeared in more than one page`);
  if (strangers.length) problems.push(`${strangers.length} records belong to no appended job`);

  const conversions = records
    .map((record) => (record.Output?.output as { X?: number } | undefined)?.X)
    .filter((x): x is number => typeof x === "number");
  const counts = countStates(records);
  console.log("\nSession 1 summary");
  console.log("  ┌──────────────────────────┬────────────┐");
  const row = (label: string, value: string | number) =>
    console.log(`  │ ${label.padEnd(24)} │ ${String(value).padStart(10)} │`);
  row("jobs appended", ids.length);
  row("result pages read", pages);
  row("records in pages", records.length);
  row("appeared exactly once", ids.length - missing.length - doubled.length);
  for (const [state, n] of Object.entries(counts)) row(`state ${state}`, n);
  if (conversions.length > 0) {
    row("conversion X min", Math.min(...conversions).toFixed(4));
    row("conversion X max", Math.max(...conversions).toFixed(4));
  }
  console.log("  └──────────────────────────┴────────────┘");
  return problems;
}

async function main(): Promise<void> {
  let stack: Stack | undefined;
  const stop = async () => {
    await stack?.stop();
  };
  process.on("SIGINT", () => void stop().then(() => process.exit(130)));
  process.on("SIGTERM", () => void stop().then(() => process.exit(143)));
  try {
    stack = await startStack({
      ...(process.env.FOQUS_API_PORT ? { apiPort: Number(process.env.FOQUS_API_PORT) } : {}),
      ...(process.env.MOTO_PORT ? { motoPort: Number(process.env.MOTO_PORT) } : {}),
      workers: Number(process.env.FOQUS_WORKERS ?? 2),
      workerEnv: { WORKER_CONCURRENCY: "8", HEARTBEAT_SECONDS: "2" },
    });
    const client = new FoqusClient(stack.apiUrl, stack.user, stack.password);
    const applications = await client.applications();
    console.log(
      `authenticated as ${stack.user}; applications: ${applications.map((app) => app.Name).join(", ")}`,
    );

    const main = await runMainSession(client);
    const killed = await runKilledSession(client);
    console.log(`session 2 after kill: ${JSON.stringify(killed)}`);
    const problems = summarize(main.ids, main.records, main.pages);
    if (!killed.terminate) problems.push("the killed session has no terminated job");
    if (problems.length > 0) throw new Error(problems.join("; "));
    console.log("\ndemo passed: every job of session 1 was paged exactly once.");
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\ndemo FAILED: ${(error as Error).message}`);
    process.exit(1);
  },
);
