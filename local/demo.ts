/**
 * @module local/demo
 * `make demo`: brings the local stack up, drives real sessions through the public API the way
 * FOQUS does, and stops everything. Exits 0 only if every job of each paged session appears in
 * the result pages exactly once.
 *
 *   1. the sample CSTR reactor model (command engine): 500 jobs appended in chunks of 20, start
 *      after each chunk, as FOQUS does, watched with a live progress bar while reading result
 *      pages as they close;
 *   2. when this machine has FOQUS: a real flowsheet (worker/apps/flowsheets/mix-scale.foqus)
 *      uploaded as FOQUS desktop uploads one, and a few hundred samples of it run the same way;
 *   3. a session of slow jobs, killed mid-run;
 *   4. a free user's session whose results are archived after a short grace period
 *      (DEMO_ARCHIVE_GRACE_SECONDS, 10 s), then restored by an upgrade and read back identical;
 *   5. a summary table per session.
 */
import "./env/process-defaults.ts";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { runAdmin } from "../cli/admin.ts";
import { FoqusClient, type JobRecord, type JobRequest } from "../client/api-client.ts";
import { resultPages } from "../client/result-pages.ts";
import { findFoqusRuntime } from "./env/foqus-runtime.ts";
import { type Stack, startStack } from "./env/stack.ts";

const JOBS = Number(process.env.DEMO_JOBS ?? 500);
const FLOWSHEET_SAMPLES = Number(process.env.DEMO_FLOWSHEET_SAMPLES ?? 300);
const CHUNK = 20;
const TIMEOUT_MS = 10 * 60_000;
const FLOWSHEET = fileURLToPath(new URL("../worker/apps/flowsheets/mix-scale.foqus", import.meta.url));

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

interface PagedSession {
  label: string;
  ids: string[];
  records: JobRecord[];
  pages: number;
}

/**
 * Appends `jobs` in chunks of 20 with start after each (as FOQUS does), then reads the result
 * pages as they close, the way FOQUS does, with a live progress bar.
 */
async function runPagedSession(
  client: FoqusClient,
  label: string,
  jobs: JobRequest[],
): Promise<PagedSession> {
  const sid = await client.createSession();
  console.log(
    `\n${label}: session ${sid}, ${jobs.length} jobs in chunks of ${CHUNK}, start after each chunk`,
  );
  const ids: string[] = [];
  for (let first = 0; first < jobs.length; first += CHUNK) {
    ids.push(...(await client.append(sid, jobs.slice(first, first + CHUNK))));
    await client.start(sid);
  }
  const records: JobRecord[] = [];
  let pages = 0;
  const deadline = Date.now() + TIMEOUT_MS;
  let lastLine = "";
  for await (const poll of resultPages(client, sid)) {
    records.push(...poll.records);
    pages = poll.page;
    const line = bar(countStates(await client.jobs(sid)), ids.length);
    if (line !== lastLine) {
      process.stdout.write(process.stdout.isTTY ? `\r${line}` : `${line}\n`);
      lastLine = line;
    }
    if (records.length >= ids.length) break;
    if (Date.now() > deadline) throw new Error(`timed out with ${records.length}/${ids.length} results read`);
  }
  if (process.stdout.isTTY) process.stdout.write("\n");
  return { label, ids, records, pages };
}

async function runCstrSession(client: FoqusClient): Promise<PagedSession> {
  await client.putSimulation("cstr-demo", "cstr");
  const jobs = Array.from({ length: JOBS }, (_, i) => ({
    Simulation: "cstr-demo",
    Input: { T: 300 + (i % 100), tau: 0.5 + Math.floor(i / 100) * 0.5 },
    Reset: false,
  }));
  return runPagedSession(client, "CSTR model", jobs);
}

/** The flowsheet staged as FOQUS desktop stages one: simulation zzfoqus_<name>, its configuration. */
async function runFlowsheetSession(client: FoqusClient): Promise<PagedSession> {
  const name = "zzfoqus_mix_scale";
  await client.putSimulation(name, "foqus");
  await client.putInput(name, "configuration", readFileSync(FLOWSHEET), "");
  const jobs = Array.from({ length: FLOWSHEET_SAMPLES }, (_, i) => ({
    Simulation: name,
    Input: { Mix: { x: i / 10, y: 1 + (i % 7) } },
    Reset: false,
  }));
  return runPagedSession(client, "FOQUS flowsheet mix-scale", jobs);
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

/** Problems with a session's pages (every job exactly once), and its summary table. */
function summarize(session: PagedSession, figures: [string, (record: JobRecord) => unknown][]): string[] {
  const { ids, records, pages } = session;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const record of records) seen.set(record.Id, (seen.get(record.Id) ?? 0) + 1);
  const missing = ids.filter((id) => !seen.has(id));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const strangers = [...seen.keys()].filter((id) => !ids.includes(id));
  const where = `${session.label}:`;
  if (missing.length) problems.push(`${where} ${missing.length} jobs never appeared in a result page`);
  if (doubled.length) problems.push(`${where} ${doubled.length} jobs appeared in more than one page`);
  if (strangers.length) problems.push(`${where} ${strangers.length} records belong to no appended job`);

  console.log(`\n${session.label}`);
  console.log("  ┌──────────────────────────┬────────────┐");
  const row = (label: string, value: string | number) =>
    console.log(`  │ ${label.padEnd(24)} │ ${String(value).padStart(10)} │`);
  row("jobs appended", ids.length);
  row("result pages read", pages);
  row("records in pages", records.length);
  row("appeared exactly once", ids.length - missing.length - doubled.length);
  for (const [state, n] of Object.entries(countStates(records))) row(`state ${state}`, n);
  for (const [label, pick] of figures) {
    const values = records.map(pick).filter((x): x is number => typeof x === "number");
    if (values.length === 0) continue;
    row(`${label} min`, Math.min(...values).toFixed(4));
    row(`${label} max`, Math.max(...values).toFixed(4));
  }
  console.log("  └──────────────────────────┴────────────┘");
  return problems;
}

const ARCHIVE_GRACE_SECONDS = Number(process.env.DEMO_ARCHIVE_GRACE_SECONDS ?? 10);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

/**
 * The result tiers round trip: a free user's results are archived once their grace period is
 * over, read as archived, and an upgrade (the operator's `foqus-admin plan … premium`) restores
 * them. Answers what went wrong, if anything.
 */
async function runTierSession(apiUrl: string): Promise<string[]> {
  // Only jobs that finish from now on get the demo's short grace period.
  process.env.ARCHIVE_GRACE_SECONDS = String(ARCHIVE_GRACE_SECONDS);
  const user = "tiers-demo";
  const password = randomBytes(12).toString("base64url");
  await runAdmin(["add", user, "--plan", "free"], { password: async () => password });
  const client = new FoqusClient(apiUrl, user, password);
  await client.putSimulation("tiers-demo", "fake");
  const sid = await client.createSession();
  await client.append(
    sid,
    Array.from({ length: 50 }, (_, i) => ({ Simulation: "tiers-demo", Input: { i, y: i * 0.5 } })),
  );
  await client.start(sid);
  console.log(`
Result tiers: free user ${user}, session ${sid} of 50 jobs, grace period ${ARCHIVE_GRACE_SECONDS} s`);
  const hot = await waitFor("the tier session's jobs to finish", async () => {
    const jobs = await client.jobs(sid);
    return jobs.every((job) => job.State === "success") ? jobs : undefined;
  });
  const finished = Date.now();
  console.log("  finished; results readable");
  await waitFor("the results to be archived", async () =>
    (await client.jobs(sid)).every((job) => job.ResultsArchived) ? true : undefined,
  );
  const closed = await client.send("POST", `/session/${sid}/result/00000000-0000-0000-0000-000000000000`);
  const answer = (await closed.json()) as { error?: string };
  console.log(
    `  archived after ${((Date.now() - finished) / 1000).toFixed(1)} s: outputs left the hot store; closing a result page answers ${closed.status} ${answer.error}`,
  );
  console.log(`  ${await runAdmin(["plan", user, "premium"])}`);
  const upgraded = Date.now();
  const restored = await waitFor("the results to be restored", async () => {
    const jobs = await client.jobs(sid);
    return jobs.every((job) => !job.ResultsArchived && job.Output !== null) ? jobs : undefined;
  });
  const same =
    JSON.stringify(restored.map((job) => job.Output)) === JSON.stringify(hot.map((job) => job.Output));
  console.log(
    `  restored ${((Date.now() - upgraded) / 1000).toFixed(1)} s after the upgrade; outputs identical: ${same ? "yes" : "NO"}`,
  );
  const problems: string[] = [];
  if (closed.status !== 400 || answer.error !== "ResultsArchived")
    problems.push(`an archived page close answered ${closed.status} ${answer.error}`);
  if (!same) problems.push("restored outputs differ from the originals");
  return problems;
}

const outputOf = (record: JobRecord) =>
  record.Output?.output as Record<string, Record<string, number>> | undefined;

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

    const cstr = await runCstrSession(client);
    const foqus = findFoqusRuntime();
    const flowsheet = foqus.available ? await runFlowsheetSession(client) : undefined;
    if (!foqus.available) console.log(`\nNo FOQUS flowsheet session: ${foqus.reason}`);
    const killed = await runKilledSession(client);
    console.log(`killed session after kill: ${JSON.stringify(killed)}`);
    const problems = summarize(cstr, [["conversion X", (r) => (r.Output?.output as { X?: number })?.X]]);
    if (flowsheet) {
      problems.push(
        ...summarize(flowsheet, [
          ["Mix.s = x + y", (r) => outputOf(r)?.Mix?.s],
          ["Scale.r = 3 s", (r) => outputOf(r)?.Scale?.r],
        ]),
      );
      const failed = flowsheet.records.filter((record) => record.State !== "success");
      if (failed.length)
        problems.push(`${failed.length} flowsheet samples did not succeed: ${failed[0]?.Message}`);
    }
    if (!killed.terminate) problems.push("the killed session has no terminated job");
    problems.push(...(await runTierSession(stack.apiUrl)));
    if (problems.length > 0) throw new Error(problems.join("; "));
    console.log(
      `\ndemo passed: every job of the ${flowsheet ? "CSTR and flowsheet sessions" : "CSTR session"} was paged exactly once.`,
    );
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
