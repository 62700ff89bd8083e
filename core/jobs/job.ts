/**
 * @module jobs/job
 * A job as stored (JobItem) and as the API shows it (JobRecord). Input and Output are kept as
 * opaque JSON strings, never as DynamoDB numbers: simulator values such as -2.75e-145 underflow
 * DynamoDB's number type (upstream FOQUS lost results to this).
 */
import * as z from "../zod.ts";
import type { JobState } from "./states.ts";

/** One job of an append request. Unknown fields (Visible, …) are accepted and ignored. */
export const JobRequestSchema = z.object({
  Simulation: z
    .string({ error: "Simulation is required: the name of a simulation created with PUT /simulation/{name}" })
    .check(z.minLength(1)),
  Input: z.optional(
    z.record(z.string(), z.unknown(), { error: "Input must be a JSON object of input values" }),
  ),
  Inputs: z.optional(
    z.record(z.string(), z.unknown(), { error: "Inputs must be a JSON object of input values" }),
  ),
  Initialize: z.optional(z.boolean({ error: "Initialize must be true or false" })),
  Reset: z.optional(z.boolean({ error: "Reset must be true or false" })),
  Application: z.optional(
    z.string({ error: "Application must be a string such as foqus" }).check(z.minLength(1)),
  ),
  Id: z.optional(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, "Id must be 1-64 letters, digits, '_' or '-' (a UUID works)")),
  ),
});
export type JobRequest = z.infer<typeof JobRequestSchema>;

/** A job item in the jobs table. */
export interface JobItem {
  SessionId: string;
  JobId: string;
  Username: string;
  Simulation: string;
  Application: string;
  InputJson: string;
  Initialize: boolean;
  Reset: boolean;
  State: JobState;
  Create: string;
  /** Sorts jobs in append order: the append's time, then the position in its request. */
  Ordinal: string;
  Submit?: string;
  Setup?: string;
  Running?: string;
  Finished?: string;
  ConsumerId?: string;
  /**
   * When the lease of the attempt ConsumerId runs ends at the earliest (ISO-8601), from its setup,
   * running and heartbeat events: until then that attempt is live (worker/lease.ts).
   */
  LeaseUntil?: string;
  /** When that attempt said so last (its event's time): a later word of the attempt wins. */
  LeaseAt?: string;
  OutputJson?: string;
  /** Key in the results bucket when the output was too large to keep in the item. */
  OutputKey?: string;
  Message?: string;
  ErrorClass?: string;
  /**
   * The archive unit that holds this job's output (core/tiers): set when a free user's results
   * left the hot store after the grace period; the output fields are then gone from the item.
   */
  ArchiveUnit?: string;
  /** Position in the session's finish order, set with the terminal state. */
  Seq?: number;
  /** Hash of what the client asked for, to tell a retried append from a conflicting one. */
  Fingerprint: string;
}

/** A job as `GET /session/{sid}` and the result pages show it (FOQUS's field names). */
export interface JobRecord {
  Id: string;
  Session: string;
  Simulation: string;
  Application: string;
  Input: Record<string, unknown>;
  Initialize: boolean;
  Reset: boolean;
  State: JobState;
  Create: string;
  Submit: string | null;
  Setup: string | null;
  Running: string | null;
  Finished: string | null;
  ConsumerId: string | null;
  Output: unknown;
  Message: string | null;
  ErrorClass?: string;
  /** Present (true) when the job's Output is in archive storage: restored on an upgrade. */
  ResultsArchived?: true;
}

/** The API view of a stored job; `output` replaces the stored one when it was fetched from S3. */
export function jobItemToRecord(item: JobItem, output?: unknown): JobRecord {
  return {
    Id: item.JobId,
    Session: item.SessionId,
    Simulation: item.Simulation,
    Application: item.Application,
    Input: JSON.parse(item.InputJson) as Record<string, unknown>,
    Initialize: item.Initialize,
    Reset: item.Reset,
    State: item.State,
    Create: item.Create,
    Submit: item.Submit ?? null,
    Setup: item.Setup ?? null,
    Running: item.Running ?? null,
    Finished: item.Finished ?? null,
    ConsumerId: item.ConsumerId ?? null,
    Output:
      output !== undefined ? output : item.OutputJson !== undefined ? JSON.parse(item.OutputJson) : null,
    Message: item.Message ?? null,
    ...(item.ErrorClass ? { ErrorClass: item.ErrorClass } : {}),
    ...(item.ArchiveUnit ? { ResultsArchived: true as const } : {}),
  };
}
