/**
 * @module applications
 * The applications a job can run, and which worker pool runs each. An application is available
 * only if some pool's workers accept it (Terraform's `worker_pools` → WORKER_POOLS).
 */
import { config, type WorkerPools } from "./config.ts";
import { ValidationError } from "./errors.ts";

/** An application as `GET /application` shows it: its name and the staged inputs it expects. */
export interface Application {
  Name: string;
  Inputs: string[];
}

/** Staged inputs each known application expects (FOQUS's names). */
const KNOWN_INPUTS: Record<string, string[]> = {
  foqus: ["flowsheet"],
  AspenPlus: ["aspenfile"],
  ACM: ["aspenfile"],
  fake: [],
  command: [],
  cstr: [],
};

export function listApplications(pools: WorkerPools = config.workerPools): Application[] {
  const names = new Set(Object.values(pools).flatMap((pool) => pool.applications));
  return [...names].sort().map((Name) => ({ Name, Inputs: KNOWN_INPUTS[Name] ?? [] }));
}

/**
 * The application's name as the worker pools spell it, matched without regard to case (older
 * clients send "aspenplus" for AspenPlus); ValidationError when no pool runs it.
 */
export function resolveApplication(
  name: string,
  field: string,
  pools: WorkerPools = config.workerPools,
): string {
  const names = Object.values(pools).flatMap((pool) => pool.applications);
  const match =
    names.find((known) => known === name) ??
    names.find((known) => known.toLowerCase() === name.toLowerCase());
  if (match) return match;
  const available = listApplications(pools).map((app) => app.Name);
  throw new ValidationError(
    `No worker pool runs application "${name}"; use one of: ${available.join(", ")} (GET /application lists them).`,
    field,
    "UnknownApplication",
  );
}
