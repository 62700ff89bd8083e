/**
 * @module engines/fake
 * Succeeds by echoing the inputs as outputs, after an optional delay, failing a chosen share of
 * jobs: for tests and benchmarks of everything around the engine.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type Engine, EngineError, type EngineJob } from "./engine.ts";

export interface FakeEngineOptions {
  delayMs?: number;
  failureRate?: number;
  random?: () => number;
}

export function createFakeEngine(options: FakeEngineOptions = {}): Engine {
  const random = options.random ?? Math.random;
  return {
    name: "fake",
    async run(job: EngineJob, signal: AbortSignal) {
      const delay = typeof job.input.delayMs === "number" ? job.input.delayMs : (options.delayMs ?? 0);
      if (delay > 0) await sleep(delay, undefined, { signal });
      signal.throwIfAborted();
      const output = { input: job.input, output: job.input, graphError: 0, solTime: delay / 1000 };
      if (job.input.fail === true || random() < (options.failureRate ?? 0)) {
        throw new EngineError("model", "The fake engine failed this job on purpose.", {
          ...output,
          graphError: 1,
        });
      }
      return output;
    },
  };
}
