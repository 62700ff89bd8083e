/**
 * The foqus engine's overhead per job beyond the flowsheet's own solve time (FOQUS's `solTime`),
 * for the sample flowsheet (worker/apps/flowsheets/mix-scale.foqus):
 * - warm: jobs one after another through the engine's long-lived FOQUS process (after one job
 *   that starts it), wall time of engine.run minus solTime (target ≤ 50 ms);
 * - cold: one `foqus --nogui … --run sim` process per job, the command line of
 *   notes/foqus-engine.md, wall time of the process minus solTime.
 * Prints {"warmOverheadMs", "coldOverheadMs", "jobs", …} (means; medians and p95 too) on stdout.
 *
 *   node --import tsx bench/foqus-overhead.ts        FOQUS_BENCH_JOBS=50 (default)
 *
 * Needs FOQUS: FOQUS_PYTHON (+ FOQUS_PATH), or `bash local/env/foqus-runtime.sh` first.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { findFoqusRuntime } from "../local/env/foqus-runtime.ts";
import type { EngineJob } from "../worker/engines/engine.ts";
import { createFoqusEngine } from "../worker/engines/foqus.ts";

const JOBS = Number(process.env.FOQUS_BENCH_JOBS ?? 50);
const SESSION = fileURLToPath(new URL("../worker/apps/flowsheets/mix-scale.foqus", import.meta.url));

interface FoqusOutput {
  solTime: number;
  graphError: number;
  output: { Scale: { r: number } };
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    mean: round(values.reduce((sum, value) => sum + value, 0) / values.length),
    median: round(at(0.5)),
    p95: round(at(0.95)),
  };
}

/** r = k * (x + y) with the session's y = 2 and k = 3: every job's result is checked. */
function check(output: FoqusOutput, x: number): void {
  if (output.graphError !== 0 || output.output.Scale.r !== 3 * (x + 2)) {
    throw new Error(`wrong result for x = ${x}: ${JSON.stringify(output).slice(0, 300)}`);
  }
}

async function warm(python: string, foqusPath: string | undefined, workDir: string): Promise<number[]> {
  const engine = createFoqusEngine({ python, foqusPath, timeoutSeconds: 600, workDir, maxProcesses: 1 });
  const signal = new AbortController().signal;
  const job = (x: number): EngineJob => ({
    jobId: `job-${x}`,
    sessionId: "bench",
    simulation: "zzfoqus_mix-scale",
    application: "foqus",
    input: { Mix: { x } },
    initialize: false,
    reset: false,
    stagedFiles: { configuration: SESSION },
  });
  try {
    check((await engine.run(job(0), signal)) as unknown as FoqusOutput, 0); // starts the process
    const overheads: number[] = [];
    for (let i = 1; i <= JOBS; i += 1) {
      const started = performance.now();
      const output = (await engine.run(job(i), signal)) as unknown as FoqusOutput;
      const wall = performance.now() - started;
      check(output, i);
      overheads.push(wall - output.solTime * 1000);
    }
    return overheads;
  } finally {
    await engine.close();
  }
}

function runCli(python: string, foqusPath: string | undefined, dir: string, args: string[]): Promise<number> {
  const pythonPath = [foqusPath, process.env.PYTHONPATH].filter((part) => part).join(delimiter);
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-c", "from foqus_lib.foqus import main; main()", ...args], {
      cwd: dir,
      env: { ...process.env, HOME: join(dir, "home"), ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? -1));
  });
}

async function cold(python: string, foqusPath: string | undefined, workDir: string): Promise<number[]> {
  const overheads: number[] = [];
  for (let i = 1; i <= JOBS; i += 1) {
    const dir = mkdtempSync(join(workDir, "cold-"));
    mkdirSync(join(dir, "home")); // FOQUS writes $HOME/.foqus.cfg
    const values = join(dir, "values.json");
    const out = join(dir, "out.json");
    writeFileSync(values, JSON.stringify({ input: { Mix: { x: i } }, input_vectorvals: {} }));
    // --psuade-path must name an executable; evaluating a flowsheet never runs it.
    const args = ["--nogui", "-w", dir, "-l", SESSION, "--loadValues", values, "--run", "sim", "-o", out];
    const started = performance.now();
    const code = await runCli(python, foqusPath, dir, [...args, "--psuade-path", process.execPath]);
    const wall = performance.now() - started;
    if (code !== 0) throw new Error(`foqus --nogui exited with ${code} (job ${i})`);
    const output = JSON.parse(readFileSync(out, "utf8")) as FoqusOutput;
    check(output, i);
    overheads.push(wall - output.solTime * 1000);
    rmSync(dir, { recursive: true, force: true });
  }
  return overheads;
}

const runtime = findFoqusRuntime();
if (!runtime.available) {
  console.error(`FOQUS is unavailable: ${runtime.reason}`);
  process.exit(1);
}
const workDir = mkdtempSync(join(tmpdir(), "foqus-bench-"));
try {
  const warmStats = stats(await warm(runtime.python, runtime.foqusPath, workDir));
  const coldStats = stats(await cold(runtime.python, runtime.foqusPath, workDir));
  console.log(
    JSON.stringify({
      warmOverheadMs: warmStats.mean,
      coldOverheadMs: coldStats.mean,
      jobs: JOBS,
      warm: warmStats,
      cold: coldStats,
      targetWarmOverheadMs: 50,
    }),
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
