/**
 * @module engines/foqus
 * Runs FOQUS flowsheets with the real FOQUS (application "foqus"). The flowsheet is the
 * simulation's staged `configuration` (a FOQUS session file); the job's Input is
 * `{NODE: {VARIABLE: value}}`; the output is FOQUS's values after the run (`solTime`, `input`,
 * `output`, `graphError`, `nodeError`, …), what `foqus --run sim -o OUT` writes.
 *
 * Process model. FOQUS takes 1–2 s to start and ~1 ms to solve a small flowsheet, so each
 * simulation gets long-lived FOQUS processes (foqus_bridge.py), keyed by the session file's path
 * and content (sha256, recomputed when its stat changes): a re-downloaded, changed file gets a
 * fresh process and the old one is retired. A process runs one job at a time; a concurrent job
 * of the same simulation takes another process, up to `maxProcesses` in all (idle processes of
 * other simulations are retired to make room; otherwise jobs wait their turn). Idle processes
 * end after `idleSeconds` and never keep the worker's event loop alive.
 *
 * No carry-over: the bridge saves the session's values right after loading it and loads them
 * back before every job's Input, so a variable a job leaves out has the session file's value,
 * never the previous job's (the upstream worker's defect). `reset: true` makes a new FOQUS
 * session and loads the file again (stopping simulator consumers, as upstream did).
 *
 * Outcomes: graphError 0 → the output. Another graph error → EngineError "model" naming the
 * graph error, the failed nodes and their errors, with the output attached. An unloadable
 * session file → "staging"; an Input naming an unknown node or variable, or a value FOQUS
 * cannot convert to the variable's type → "invalid-input" (FOQUS's own conversions apply:
 * "4" → 4.0, true → 1.0). Over the time limit → "timeout". An abort (kill, shutdown) asks FOQUS
 * to terminate the flowsheet (it stops between nodes), kills the process if it has not stopped
 * within `terminateGraceMs`, and throws AbortError. A FOQUS process that dies mid-run fails that
 * job ("model", with the last lines of its log); the next job gets a fresh process.
 *
 * NaN and Infinity. FOQUS writes them as bare `NaN`/`Infinity`/`-Infinity` tokens, which
 * JSON.parse rejects. The bridge writes them as the strings "NaN", "Infinity", "-Infinity"
 * wherever they occur in the output. Measured with the real FOQUS 3.29 desktop code reading a
 * result page (json.loads → Graph.solveListValTurbine → job Output):
 * - `flowsheet.loadValues(Output)` (single runs in the main window, every optimizer after a
 *   sample) converts each value with the variable's type, and float("NaN") / float("Infinity")
 *   restore the exact values; with null it raises TypeError (float(None)).
 * - UQ (`numpy.array(outputs, dtype=float)`) gets nan/inf/-inf from the strings; null gives nan
 *   and loses the infinities.
 * - The results table (Results.add_result) stores the strings as they are, so sorting or
 *   filtering on such a column raises in pandas (a null would be NaN there); arithmetic on the
 *   raw value (an optimizer objective) fails for both forms.
 * Strings keep every value and load back exactly, so they are the form.
 *
 * Files: each process has its own directory (FOQUS's working directory, with HOME inside it for
 * $HOME/.foqus.cfg) and each job its own working directory, both under `workDir`, removed when
 * the process ends and when the job ends. FOQUS's log (its stdout and stderr) is kept only as a
 * bounded tail for error messages; the protocol is on a channel of its own (see the bridge).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ErrorClass } from "../../core/events/events.ts";
import { type Engine, EngineError, type EngineJob } from "./engine.ts";

export const FOQUS_BRIDGE = fileURLToPath(new URL("./foqus_bridge.py", import.meta.url));

export interface FoqusEngineOptions {
  /** The Python that imports FOQUS (FOQUS_PYTHON). */
  python: string;
  /** Prepended to the bridge's PYTHONPATH: an unpacked FOQUS (FOQUS_PATH); not needed with pip. */
  foqusPath?: string | undefined;
  /** Time limit of a job, from taking a process to its reply (FOQUS_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  /** Where process and job directories go (the worker's cache); default: the OS temp dir. */
  workDir?: string | undefined;
  /** FOQUS processes at once, over all simulations (default 2). */
  maxProcesses?: number;
  /** An idle process ends after this (default 900 s). */
  idleSeconds?: number;
  /** After an abort or timeout, how long FOQUS may take to terminate the flowsheet before it is killed. */
  terminateGraceMs?: number;
}

/** What a FOQUS process of the engine is doing (for tests and diagnostics). */
export interface FoqusProcessInfo {
  pid: number | undefined;
  sessionPath: string;
  busy: boolean;
  /** A flowsheet is running (the bridge started its thread). */
  running: boolean;
  /** Session loads in this process (1 + resets). */
  loads: number;
  jobs: number;
}

export interface FoqusEngine extends Engine {
  processes(): FoqusProcessInfo[];
  /** Ends every FOQUS process (killing running ones) and refuses further jobs. */
  close(): Promise<void>;
}

const LOG_TAIL_CHARS = 16_000;
const MESSAGE_LOG_LINES = 15;
const MESSAGE_LOG_CHARS = 2_000;

/** The last characters a process wrote to its log, for error messages. */
class LogTail {
  private text = "";
  add(chunk: string): void {
    this.text = (this.text + chunk).slice(-LOG_TAIL_CHARS);
  }
  lines(count = MESSAGE_LOG_LINES): string {
    const lines = this.text.split(/\r?\n/).filter((line) => line.trim() !== "");
    return lines.slice(-count).join("\n").slice(-MESSAGE_LOG_CHARS);
  }
}

interface Reply {
  id?: number;
  event?: string;
  ok?: boolean;
  errorClass?: ErrorClass;
  message?: string;
  output?: Record<string, unknown>;
  name?: string;
  graphErrorText?: string;
  nodeErrors?: Record<string, { code: number; text: string }>;
  errors?: string[];
  loads?: number;
  jobs?: number;
  pid?: number;
}

/** The process ended (or never started) while the engine waited for it. */
class BridgeGone extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BridgeGone";
  }
}

type RefCounted = { ref?: () => void; unref?: () => void };

/** One FOQUS process running foqus_bridge.py, spoken to one request at a time. */
class BridgeProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  readonly log = new LogTail();
  loaded = false;
  loads = 0;
  jobs = 0;
  busy = false;
  running = false;
  alive = true;
  /** Why it is gone: exit code or signal, or the start failure. */
  gone = "";
  idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private pending:
    | { id: number; resolve: (reply: Reply) => void; reject: (error: Error) => void }
    | undefined;
  private buffer = "";
  private settleReady: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(
    readonly sessionPath: string,
    readonly key: string,
    readonly dir: string,
    options: FoqusEngineOptions,
  ) {
    const home = join(dir, "home");
    mkdirSync(home, { recursive: true });
    const pythonPath = [options.foqusPath, process.env.PYTHONPATH].filter((part) => part).join(delimiter);
    this.child = spawn(options.python, [FOQUS_BRIDGE], {
      cwd: dir,
      env: {
        ...process.env,
        HOME: home,
        APPDATA: home, // FOQUS's settings file on Windows
        ...(pythonPath ? { PYTHONPATH: pythonPath } : {}),
        PYTHONUNBUFFERED: "1",
        PYTHONIOENCODING: "utf-8",
      },
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.ready.catch(() => undefined); // awaited by the job; a failure here is reported there
    this.child.stdin?.on("error", () => undefined); // the process may be gone before a write
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => this.onData(chunk));
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => this.log.add(chunk));
    this.exited = new Promise<void>((resolve) => {
      let finished = false;
      const finish = (why: string) => {
        if (finished) return;
        finished = true;
        this.alive = false;
        this.gone ||= why;
        const error = new BridgeGone(this.gone);
        this.settleReady?.reject(error);
        this.pending?.reject(error);
        this.pending = undefined;
        resolve();
      };
      this.child.on("error", (error) => finish(`cannot run ${options.python}: ${error.message}`));
      this.child.on("exit", (code, signal) => {
        const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        // Let the last log lines arrive; a grandchild holding the pipes must not delay us long.
        const timer = setTimeout(() => finish(why), 500);
        this.child.once("close", () => {
          clearTimeout(timer);
          finish(why);
        });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf("\n");
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line);
      newline = this.buffer.indexOf("\n");
    }
  }

  private onLine(line: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      this.log.add(`${line}\n`);
      return;
    }
    if (reply.event === "ready") {
      this.settleReady?.resolve();
      return;
    }
    if (reply.event === "fatal") {
      this.gone = reply.message ?? "FOQUS failed to start";
      this.settleReady?.reject(new BridgeGone(this.gone));
      return;
    }
    if (reply.event === "running") {
      if (reply.id === this.pending?.id) this.running = true;
      return;
    }
    if (reply.event) return;
    if (this.pending && reply.id === this.pending.id) {
      const { resolve } = this.pending;
      this.pending = undefined;
      this.running = false;
      resolve(reply);
    }
  }

  /** Sends a request and resolves with its reply; `onId` learns its id before it is sent. */
  request(message: Record<string, unknown>, onId?: (id: number) => void): Promise<Reply> {
    if (!this.alive) return Promise.reject(new BridgeGone(this.gone));
    if (this.pending) return Promise.reject(new Error("A FOQUS process runs one request at a time."));
    const id = this.nextId++;
    onId?.(id);
    return new Promise<Reply>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.child.stdin?.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  }

  /** Asks FOQUS to stop run `id` (it stops before the next node). */
  terminate(id: number): void {
    if (this.alive) this.child.stdin?.write(`${JSON.stringify({ op: "terminate", id })}\n`);
  }

  /** Kills the process; from now on it takes no requests. */
  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    this.gone ||= "was killed";
    this.child.kill("SIGKILL");
  }

  /** Ends the process: EOF on stdin lets the bridge exit; a kill follows if it does not. */
  end(graceMs: number): void {
    if (!this.alive) return;
    this.alive = false;
    this.gone ||= "was ended";
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Whether this process keeps the event loop alive: only while it has a job. */
  setRef(on: boolean): void {
    for (const handle of [
      this.child,
      this.child.stdin,
      this.child.stdout,
      this.child.stderr,
    ] as RefCounted[]) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}

interface Waiter {
  path: string;
  key: string;
  signal: AbortSignal;
  resolve: (process: BridgeProcess) => void;
  reject: (error: Error) => void;
  onAbort: () => void;
}

function abortError(signal: AbortSignal): Error {
  const error = new Error(`The run was stopped (${String(signal.reason)}).`);
  error.name = "AbortError";
  return error;
}

/** FOQUS processes by session file (path + content), bounded in number. */
class Pool {
  private readonly procs = new Set<BridgeProcess>();
  private readonly waiters: Waiter[] = [];
  /** Session path → the key of its current content. */
  private readonly current = new Map<string, string>();
  closed = false;

  constructor(
    private readonly options: FoqusEngineOptions,
    private readonly processesDir: string,
  ) {}

  list(): BridgeProcess[] {
    return [...this.procs];
  }

  acquire(path: string, key: string, signal: AbortSignal): Promise<BridgeProcess> {
    if (this.closed) return Promise.reject(new Error("The foqus engine is closed."));
    this.current.set(path, key);
    for (const proc of this.procs)
      if (!proc.busy && proc.sessionPath === path && proc.key !== key) this.retire(proc);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        path,
        key,
        signal,
        resolve,
        reject,
        onAbort: () => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(abortError(signal));
        },
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.dispatch();
    });
  }

  release(proc: BridgeProcess, reusable: boolean): void {
    proc.busy = false;
    proc.running = false;
    if (!reusable || !proc.alive || this.closed || this.current.get(proc.sessionPath) !== proc.key) {
      this.retire(proc);
    } else {
      proc.setRef(false);
      proc.idleTimer = setTimeout(() => this.retire(proc), (this.options.idleSeconds ?? 900) * 1000);
      proc.idleTimer.unref();
    }
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal.removeEventListener("abort", waiter.onAbort);
      waiter.reject(new Error("The foqus engine is closed."));
    }
    const exits = [...this.procs].map((proc) => proc.exited);
    for (const proc of this.procs) {
      proc.setRef(true); // close() resolves once they are gone
      if (proc.busy) proc.kill();
      else this.retire(proc);
    }
    await Promise.all(exits);
  }

  private dispatch(): void {
    for (const waiter of [...this.waiters]) {
      let proc: BridgeProcess | undefined;
      try {
        proc = this.take(waiter.path, waiter.key);
      } catch (error) {
        // No process directory (disk full, cache removed…): fail this job, not the caller.
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.signal.removeEventListener("abort", waiter.onAbort);
        waiter.reject(error as Error);
        continue;
      }
      if (!proc) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.signal.removeEventListener("abort", waiter.onAbort);
      clearTimeout(proc.idleTimer);
      proc.busy = true;
      proc.setRef(true);
      waiter.resolve(proc);
    }
  }

  private take(path: string, key: string): BridgeProcess | undefined {
    for (const proc of this.procs) if (!proc.busy && proc.alive && proc.key === key) return proc;
    if (this.procs.size >= (this.options.maxProcesses ?? 2)) {
      const idle = [...this.procs].filter((proc) => !proc.busy);
      if (idle.length === 0) return undefined;
      this.retire(idle[0]!); // the set keeps insertion order: the oldest process goes
    }
    mkdirSync(this.processesDir, { recursive: true });
    const dir = mkdtempSync(join(this.processesDir, `foqus-${process.pid}-`));
    const proc = new BridgeProcess(path, key, dir, this.options);
    this.procs.add(proc);
    void proc.exited.then(async () => {
      this.procs.delete(proc);
      clearTimeout(proc.idleTimer);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      if (!this.closed) this.dispatch();
    });
    return proc;
  }

  private retire(proc: BridgeProcess): void {
    clearTimeout(proc.idleTimer);
    this.procs.delete(proc);
    proc.end(5_000);
  }
}

/** Content identity of a session file: its sha256, recomputed only when its stat changes. */
class FileIdentities {
  private readonly known = new Map<string, { stamp: string; hash: string }>();
  async of(path: string): Promise<string> {
    const info = await stat(path, { bigint: true });
    const stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    const known = this.known.get(path);
    if (known?.stamp === stamp) return known.hash;
    const hash = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
    this.known.set(path, { stamp, hash });
    return hash;
  }
}

/** What to do about a graph error (codes from FOQUS's graph.py). */
function graphAdvice(code: number): string {
  if (code === 1)
    return "Fix the failed node's model, or the Input values it cannot handle; Output holds the flowsheet's values after the run.";
  if (code === 11 || code === 12)
    return "The tear solver did not converge: try other initial values, or the session's solver settings (tearMaxIt, tearTol).";
  if (code === 16 || code === 17) return "Fix the failed pre-/post-solve node, or its inputs.";
  if (code === 19)
    return "An exception stopped the flowsheet (see the log lines); open the session in FOQUS desktop and run it.";
  if (code === 40)
    return "A node's simulator is reached through Turbine: such flowsheets run on the Windows pool with Aspen and TurbineLite.";
  return "Run the session in FOQUS desktop with this Input to see why.";
}

function modelError(reply: Reply, output: Record<string, unknown>, name: string): EngineError {
  const code = output.graphError;
  const nodes = Object.entries(reply.nodeErrors ?? {}).map(
    ([node, error]) => `node ${node} failed with error ${error.code} (${error.text})`,
  );
  const errors = (reply.errors ?? []).join(" | ").slice(-1_000);
  const message = [
    `Flowsheet "${name}" failed with graph error ${String(code)} (${reply.graphErrorText ?? "unknown"})`,
    nodes.length > 0 ? `: ${nodes.join("; ")}` : "",
    errors ? `. FOQUS logged: ${errors}` : "",
    `. ${graphAdvice(Number(code))}`,
  ].join("");
  return new EngineError("model", message, output);
}

/** Removes directories left by engines of worker processes that are gone (named `…-<pid>-…`). */
function sweep(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH")
        rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
}

export function createFoqusEngine(options: FoqusEngineOptions): FoqusEngine {
  const workDir = resolve(options.workDir ?? join(tmpdir(), "foqus-engine"));
  const processesDir = join(workDir, "processes");
  const jobsDir = join(workDir, "jobs");
  mkdirSync(processesDir, { recursive: true });
  mkdirSync(jobsDir, { recursive: true });
  sweep(processesDir);
  sweep(jobsDir);
  const pool = new Pool(options, processesDir);
  const identities = new FileIdentities();
  const timeoutMs = options.timeoutSeconds * 1000;
  const graceMs = options.terminateGraceMs ?? 1000;

  async function runOn(
    proc: BridgeProcess,
    job: EngineJob,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    let stopped: "aborted" | "timeout" | undefined;
    let phase: "start" | "load" | "run" = "start";
    let runId: number | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let reusable = true;
    let jobDir: string | undefined;
    const stop = (why: "aborted" | "timeout") => {
      if (stopped) return;
      stopped = why;
      if (proc.running && runId !== undefined) {
        proc.terminate(runId);
        graceTimer = setTimeout(() => proc.kill(), graceMs);
      } else {
        proc.kill();
      }
    };
    const onAbort = () => stop("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) stop("aborted"); // aborted while the process was being handed over
    const timer = setTimeout(() => stop("timeout"), timeoutMs);
    try {
      await proc.ready;
      phase = "load";
      if (!proc.loaded || job.reset) {
        const reply = await proc.request({ op: proc.loaded ? "reset" : "load", path: proc.sessionPath });
        if (stopped) throw new Error(stopped);
        if (!reply.ok) {
          reusable = false;
          throw new EngineError(
            reply.errorClass ?? "staging",
            reply.message ?? "FOQUS cannot load the session.",
          );
        }
        proc.loaded = true;
        proc.loads = reply.loads ?? proc.loads + 1;
      }
      await mkdir(jobsDir, { recursive: true });
      jobDir = await mkdtemp(join(jobsDir, `job-${process.pid}-`));
      phase = "run";
      const reply = await proc.request({ op: "run", input: job.input, dir: jobDir }, (id) => {
        runId = id;
      });
      proc.jobs = reply.jobs ?? proc.jobs + 1;
      if (stopped) throw new Error(stopped);
      if (!reply.ok || !reply.output) {
        throw new EngineError(
          reply.errorClass ?? "model",
          reply.message ?? "FOQUS did not return the output.",
        );
      }
      if (reply.output.graphError !== 0) throw modelError(reply, reply.output, job.simulation);
      return reply.output;
    } catch (error) {
      if (stopped === "aborted") throw abortError(signal);
      if (stopped === "timeout") {
        throw new EngineError(
          "timeout",
          `The flowsheet did not finish within its time limit of ${options.timeoutSeconds} s (FOQUS_TIMEOUT_SECONDS on the worker) and was stopped. Shorten the run, or run it on a worker with a longer limit.`,
        );
      }
      if (!(error instanceof BridgeGone)) throw error;
      const log = proc.log.lines();
      const tail = log ? ` Last lines of its log:\n${log}` : "";
      if (phase === "start") {
        throw new EngineError(
          "model",
          `FOQUS did not start on this worker (${error.message}). The worker's FOQUS_PYTHON (${options.python}) must import FOQUS: pip install ccsi-foqus, or set FOQUS_PATH to an unpacked FOQUS.${tail}`,
        );
      }
      const during = phase === "load" ? "loading the session file" : "the run";
      throw new EngineError(
        "model",
        `The FOQUS process ${error.message} during ${during}; this job failed and the next job gets a fresh FOQUS process. If it happens again, run the session in FOQUS desktop with this Input (a node may crash Python or run out of memory).${tail}`,
      );
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      signal.removeEventListener("abort", onAbort);
      if (jobDir) await rm(jobDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      // After a graceful terminate the process is idle and stays warm; a killed one is not alive.
      pool.release(proc, reusable && proc.alive);
    }
  }

  return {
    name: "foqus",
    async run(job: EngineJob, signal: AbortSignal) {
      if (signal.aborted) throw abortError(signal);
      // "session.foqus" is the name upstream staged it under.
      const staged = job.stagedFiles.configuration ?? job.stagedFiles["session.foqus"];
      if (!staged) {
        throw new EngineError(
          "staging",
          `Simulation "${job.simulation}" has no staged file "configuration" (its FOQUS session file). Upload the flowsheet's .foqus file as the simulation's configuration.`,
        );
      }
      const path = resolve(staged);
      let key: string;
      try {
        key = `${path}#${await identities.of(path)}`;
      } catch (error) {
        throw new EngineError(
          "staging",
          `The FOQUS session file of simulation "${job.simulation}" cannot be read (${(error as Error).message}). Upload the configuration again.`,
        );
      }
      const proc = await pool.acquire(path, key, signal);
      return runOn(proc, job, signal);
    },
    processes() {
      return pool.list().map((proc) => ({
        pid: proc.pid,
        sessionPath: proc.sessionPath,
        busy: proc.busy,
        running: proc.running,
        loads: proc.loads,
        jobs: proc.jobs,
      }));
    },
    close() {
      return pool.close();
    },
  };
}
