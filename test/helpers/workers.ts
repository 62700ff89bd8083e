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

/**
 * The long-poll wait of test workers, in seconds. A worker killed while a receive is pending
 * leaves that receive alive inside moto until its wait is over, and it takes (and so spends) a
 * delivery of the next message that becomes visible, which nobody will ever run. A short wait
 * bounds that; a test that counts deliveries waits such polls out (`pollsOver`).
 */
export const TEST_RECEIVE_WAIT_SECONDS = 1;

/** Resolves once every receive a worker killed before this call could have left pending is over. */
export function pollsOver(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, TEST_RECEIVE_WAIT_SECONDS * 1000 + 500));
}

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
      RECEIVE_WAIT_SECONDS: String(TEST_RECEIVE_WAIT_SECONDS),
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

/**
 * Empties the pools' job queues and the update queue, for an end-to-end file's start: earlier
 * files leave messages of jobs they killed or deleted, and events of their last jobs, which this
 * file's workers and update processor would otherwise have to get through before its own.
 */
export async function clearJobQueues(): Promise<void> {
  const { PurgeQueueCommand } = await import("@aws-sdk/client-sqs");
  const { sqsClient } = await import("../../core/aws/sqs-client.ts");
  const queues = [...Object.values(stack.outputs.job_queue_urls), stack.outputs.update_queue_url];
  await Promise.all(queues.map((QueueUrl) => sqsClient().send(new PurgeQueueCommand({ QueueUrl }))));
}
