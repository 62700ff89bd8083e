/**
 * Worker processes for end-to-end tests: started on the linux pool's queue with test settings,
 * their JSON log lines collected so a test can wait for an outcome ("job killed") instead of
 * sleeping.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { findFoqusRuntime, foqusWorkerEnvironment } from "../../local/env/foqus-runtime.ts";
import { env, stack } from "./stack.ts";

/** The real FOQUS when this machine has it: workers then run the foqus application too. */
export const foqusRuntime = findFoqusRuntime();

const WORKER_MAIN = fileURLToPath(new URL("../../worker/main.ts", import.meta.url));

export interface TestWorker {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first log line matching `predicate`, or rejects after `timeoutMs`. */
  waitFor(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startWorker(settings: Record<string, string> = {}): TestWorker {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN], {
    env: {
      ...process.env,
      ...env,
      JOB_QUEUE_URL: stack.outputs.job_queue_urls.linux ?? "",
      POWERTOOLS_LOG_LEVEL: "INFO",
      // One JSON object per line (POWERTOOLS_DEV pretty-prints over several).
      POWERTOOLS_DEV: "false",
      HEARTBEAT_SECONDS: "1",
      LEASE_SECONDS: "5",
      ...foqusWorkerEnvironment(foqusRuntime),
      ...settings,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const text of parts) {
      if (!text.startsWith("{")) continue;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on("data", () => undefined);
  return {
    process: child,
    lines,
    waitFor(predicate, timeoutMs = 60_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          // Say what the worker did instead, so a failure can be diagnosed from the test output.
          const recent = lines
            .slice(-8)
            .map((line) => `${line.message} ${line.job ?? ""} ${line.state ?? ""}`.trim());
          reject(
            new Error(
              `no matching worker log line within ${timeoutMs} ms; its last lines: ${recent.join(" | ")}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      // "close", not "exit": only then has every line the worker wrote been read.
      const closed = once(child, "close");
      child.kill(signal);
      const [code] = (await closed) as [number | null];
      return code;
    },
  };
}
