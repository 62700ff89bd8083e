/**
 * @module engines/engine
 * What a worker runs a job with. An engine takes the job's input and returns its output (a JSON
 * object, FOQUS's shape: {input, output, graphError, …}), or throws EngineError naming the kind
 * of failure. It must stop promptly when `signal` aborts (a kill or a shutdown).
 */
import type { ErrorClass } from "../../core/events/events.ts";

export interface EngineJob {
  jobId: string;
  sessionId: string;
  simulation: string;
  application: string;
  input: Record<string, unknown>;
  initialize: boolean;
  reset: boolean;
  /** Local paths of the simulation's staged files, by their staged name. */
  stagedFiles: Record<string, string>;
}

export interface Engine {
  readonly name: string;
  run(job: EngineJob, signal: AbortSignal): Promise<Record<string, unknown>>;
}

/** The job failed for a reason the job owner should see (becomes `job.error` with `Message`). */
export class EngineError extends Error {
  readonly errorClass: ErrorClass;
  readonly output: Record<string, unknown> | undefined;
  constructor(errorClass: ErrorClass, message: string, output?: Record<string, unknown>) {
    super(message);
    this.name = "EngineError";
    this.errorClass = errorClass;
    this.output = output;
  }
}
