/**
 * @module engines/command
 * Runs a configured executable per application: the job as JSON on stdin
 * ({input, simulation, application, initialize, reset, stagedFiles}), the output as JSON on
 * stdout. A non-zero exit is a model error with the executable's stderr as the message; the run
 * is killed when it exceeds its time limit or the job is killed. Stdout is capped
 * (MAX_COMMAND_STDOUT_BYTES): a run that prints more is killed and fails as a model error that
 * says so, instead of growing the worker's memory until it dies; stderr keeps only its tail.
 */
import { spawn } from "node:child_process";
import { MAX_COMMAND_STDOUT_BYTES } from "../../core/limits.ts";
import { type Engine, EngineError, type EngineJob } from "./engine.ts";

export interface CommandEngineOptions {
  /** Application → the command: executable (absolute path, or a name on PATH) and its arguments. */
  executables: Record<string, string[]>;
  timeoutSeconds: number;
  /** Most bytes of stdout a run may print (default MAX_COMMAND_STDOUT_BYTES). */
  maxStdoutBytes?: number;
}

const MAX_STDERR_CHARS = 4000;

export function createCommandEngine(options: CommandEngineOptions): Engine {
  const maxStdoutBytes = options.maxStdoutBytes ?? MAX_COMMAND_STDOUT_BYTES;
  return {
    name: "command",
    run(job: EngineJob, signal: AbortSignal) {
      const commandLine = options.executables[job.application];
      const executable = commandLine?.[0];
      if (!commandLine || !executable) {
        return Promise.reject(
          new EngineError(
            "invalid-input",
            `This worker has no executable for application "${job.application}".`,
          ),
        );
      }
      return new Promise((resolve, reject) => {
        // No shell and no splitting: paths with spaces (C:\Program Files\…) work as given.
        const child = spawn(executable, commandLine.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        let overflowed = false;
        let stderr = "";
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutSeconds * 1000);
        const onAbort = () => child.kill("SIGKILL");
        signal.addEventListener("abort", onAbort, { once: true });
        child.stdout.on("data", (chunk: Buffer) => {
          if (overflowed) return;
          stdoutBytes += chunk.length;
          if (stdoutBytes > maxStdoutBytes) {
            overflowed = true;
            stdout.length = 0;
            child.kill("SIGKILL");
            return;
          }
          stdout.push(chunk);
        });
        child.stderr.on("data", (chunk: Buffer) => {
          stderr = (stderr + chunk.toString()).slice(-MAX_STDERR_CHARS);
        });
        child.on("error", (error) => {
          clearTimeout(timer);
          reject(new EngineError("invalid-input", `Cannot run ${executable}: ${error.message}`));
        });
        child.on("close", (code) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          if (signal.aborted) {
            const aborted = new Error(`The run was stopped (${String(signal.reason)}).`);
            aborted.name = "AbortError";
            return reject(aborted);
          }
          if (overflowed) {
            return reject(
              new EngineError(
                "model",
                `${executable} printed more than ${maxStdoutBytes} bytes on stdout, the most a run may print; it was stopped. Print only the output JSON on stdout; logs belong on stderr.`,
              ),
            );
          }
          if (timedOut) {
            return reject(
              new EngineError("timeout", `The run exceeded its time limit of ${options.timeoutSeconds} s.`),
            );
          }
          if (code !== 0) {
            return reject(
              new EngineError("model", stderr.trim() || `${executable} exited with code ${code}.`),
            );
          }
          try {
            resolve(JSON.parse(Buffer.concat(stdout).toString("utf8")) as Record<string, unknown>);
          } catch {
            reject(
              new EngineError("model", `${executable} did not print JSON on stdout. ${stderr.trim()}`.trim()),
            );
          }
        });
        child.stdin.on("error", () => undefined); // the child may exit before reading stdin
        child.stdin.end(
          JSON.stringify({
            input: job.input,
            simulation: job.simulation,
            application: job.application,
            initialize: job.initialize,
            reset: job.reset,
            stagedFiles: job.stagedFiles,
          }),
        );
      });
    },
  };
}
