/**
 * `make soak`: a benchmark-style run (not a timed test) that proves nothing is lost and nothing
 * is doubled under faults. On the local stack:
 * - 10% of SDK calls in every process (the API handlers and the update processor in this one,
 *   every worker) fail with throttling, 5xx or timeouts (core/aws/fault-plugin.ts);
 * - workers are SIGKILLed at random and replaced;
 * - a 1,000-job session is appended in chunks of 20 with start after each and read page by page
 *   as FOQUS does, every call retried up to 5 times as FOQUS retries.
 * It ends with every job terminal exactly once and in exactly one page, or exits 1 saying what
 * was lost or doubled, and prints the faults injected and every outcome.
 *
 *   SOAK_JOBS=1000 SOAK_FAULT_RATE=0.1 SOAK_WORKERS=2 SOAK_KILL_EVERY_SECONDS=20 make soak
 */
import "../local/env/process-defaults.ts";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FoqusClient, type JobRecord } from "../client/api-client.ts";
import { resultPages } from "../client/result-pages.ts";
import { useClientPlugin } from "../core/aws/clients.ts";
import { faultPlugin, injectedFaults } from "../core/aws/fault-plugin.ts";
import { startStack } from "../local/env/stack.ts";

const JOBS = Number(process.env.SOAK_JOBS ?? 1000);
const RATE = Number(process.env.SOAK_FAULT_RATE ?? 0.1);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 2);
const KILL_EVERY_MS = Number(process.env.SOAK_KILL_EVERY_SECONDS ?? 20) * 1000;
const CHUNK = 20;
const TIMEOUT_MS = 30 * 60_000;

/** FOQUS's retry: any failure is tried again, up to 5 attempts in all (with shorter waits here). */
async function retried<T>(what: string, call: () => Promise<T>, retries: { count: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 5) throw new Error(`${what} failed 5 times: ${(error as Error).message}`);
      retries.count += 1;
      await sleep(200 * attempt);
    }
  }
}

function sumFaults(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

async function main(): Promise<void> {
  const faultDir = mkdtempSync(join(tmpdir(), "foqus-soak-"));
  const stack = await startStack({ workers: 0, log: (line) => console.log(line) });
  const kills: string[] = [];
  const retries = { count: 0 };
  let killer: NodeJS.Timeout | undefined;
  try {
    // From now on this process's SDK calls (API handlers, processor, publisher) fail at RATE too.
    useClientPlugin(faultPlugin(RATE));
    let serial = 0;
    const workers = new Set<ChildProcess>();
    const addWorker = () => {
      serial += 1;
      const child = stack.addWorker({
        FOQUS_FAULT_RATE: String(RATE),
        FOQUS_FAULT_COUNT_FILE: join(faultDir, `worker-${serial}.json`),
        WORKER_ID: `soak-${serial}`,
        WORKER_CONCURRENCY: "4",
        HEARTBEAT_SECONDS: "2",
        LEASE_SECONDS: "10",
        FAKE_DELAY_MS: "300",
        // A SIGKILLed worker's long poll stays open inside moto and takes messages: keep it short.
        RECEIVE_WAIT_SECONDS: "2",
      });
      workers.add(child);
      child.once("exit", () => workers.delete(child));
    };
    for (let i = 0; i < WORKERS; i++) addWorker();
    killer = setInterval(() => {
      const victims = [...workers];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (!victim?.pid) return;
      kills.push(`pid ${victim.pid} at ${new Date().toISOString()}`);
      victim.kill("SIGKILL");
      addWorker();
    }, KILL_EVERY_MS);

    const client = new FoqusClient(stack.apiUrl, stack.user, stack.password);
    await retried("create the simulation", () => client.putSimulation("soak", "fake"), retries);
    const sid = await retried("create the session", () => client.createSession(), retries);
    console.log(
      `soak: session ${sid}, ${JOBS} jobs, ${RATE * 100}% of SDK calls failing, a worker killed every ${KILL_EVERY_MS / 1000} s`,
    );
    const ids: string[] = [];
    for (let first = 0; first < JOBS; first += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, JOBS - first) }, (_, k) => ({
        Simulation: "soak",
        Input: { i: first + k },
        Reset: false,
      }));
      ids.push(...(await retried("append", () => client.append(sid, chunk), retries)));
      await retried("start", () => client.start(sid), retries);
    }

    const seen = new Map<string, number>();
    const records: JobRecord[] = [];
    const deadline = Date.now() + TIMEOUT_MS;
    let pagesRead = 0;
    while (records.length < ids.length) {
      if (Date.now() > deadline) break;
      try {
        for await (const poll of resultPages(client, sid, { pagesRead, untilIdle: true })) {
          pagesRead = poll.page;
          for (const record of poll.records) {
            seen.set(record.Id, (seen.get(record.Id) ?? 0) + 1);
            records.push(record);
          }
        }
      } catch {
        retries.count += 1; // a faulted close or read: FOQUS polls again
      }
      await sleep(1000);
    }
    clearInterval(killer);

    const states: Record<string, number> = {};
    for (const record of records) states[record.State] = (states[record.State] ?? 0) + 1;
    const missing = ids.filter((id) => !seen.has(id));
    const doubled = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    const strangers = [...seen.keys()].filter((id) => !ids.includes(id));
    const workerLost = records.filter((record) => record.ErrorClass === "worker-lost").length;

    const faults: Record<string, number> = { ...injectedFaults };
    for (const file of readdirSync(faultDir))
      sumFaults(faults, JSON.parse(readFileSync(join(faultDir, file), "utf8")));
    const totalFaults = Object.values(faults).reduce((sum, n) => sum + n, 0);
    console.log(`\nfaults injected: ${totalFaults}`);
    for (const [key, n] of Object.entries(faults).sort(([, a], [, b]) => b - a))
      console.log(`  ${String(n).padStart(6)}  ${key}`);
    console.log(`workers SIGKILLed: ${kills.length}`);
    console.log(`client calls retried: ${retries.count}`);
    console.log(`outcomes: ${JSON.stringify(states)}; pages read ${pagesRead}`);
    console.log(
      `jobs appended ${ids.length}, paged exactly once ${ids.length - missing.length - doubled.length}, missing ${missing.length}, doubled ${doubled.length}, unknown ${strangers.length}`,
    );
    console.log(
      `worker-lost: ${workerLost} (each means SQS delivered the job to workers that died before finishing it, maxReceiveCount times)`,
    );
    const problems = [
      missing.length ? `${missing.length} jobs never reached a page` : "",
      doubled.length ? `${doubled.length} jobs were paged twice` : "",
      strangers.length ? `${strangers.length} records belong to no appended job` : "",
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    console.log("\nsoak passed: every job terminal exactly once, in exactly one page.");
  } finally {
    if (killer) clearInterval(killer);
    await stack.stop();
    rmSync(faultDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nsoak FAILED: ${(error as Error).message}`);
    process.exit(1);
  },
);
