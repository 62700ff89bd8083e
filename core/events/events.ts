/**
 * @module events/events
 * The events that flow through the update topic. Every event has the same envelope; the SNS
 * message attributes repeat its routing fields so queues can filter on them (a pool's job queue
 * takes `event = job.submit` for its applications).
 */
import type { JobState } from "../jobs/states.ts";

export const EventTypes = {
  jobSubmit: "job.submit",
  jobSetup: "job.setup",
  jobRunning: "job.running",
  jobSuccess: "job.success",
  jobError: "job.error",
  jobTerminate: "job.terminate",
  /**
   * A long attempt's lease, renewed (`leaseUntil`): applied only to a job in setup or running of
   * the same consumer, never moving its state (jobs/apply-event.ts).
   */
  jobHeartbeat: "job.heartbeat",
  sessionStart: "session.start",
  sessionStop: "session.stop",
  sessionKill: "session.kill",
  consumerRunning: "consumer.running",
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** The job state each job event moves to. */
export const EVENT_TARGET_STATE: Partial<Record<EventType, JobState>> = {
  "job.submit": "submit",
  "job.setup": "setup",
  "job.running": "running",
  "job.success": "success",
  "job.error": "error",
  "job.terminate": "terminate",
};

export const ErrorClasses = {
  model: "model",
  license: "license",
  staging: "staging",
  timeout: "timeout",
  workerLost: "worker-lost",
  invalidInput: "invalid-input",
} as const;
export type ErrorClass = (typeof ErrorClasses)[keyof typeof ErrorClasses];

export interface FoqusEvent {
  /** Unique per event occurrence; duplicates of one event share it. */
  id: string;
  event: EventType;
  /** ISO-8601 time the event happened (becomes the job's timestamp for its state). */
  time: string;
  username: string;
  session: string;
  job?: string;
  application?: string;
  simulation?: string;
  consumer?: string;
  /** Terminal events: the output JSON, or the results-bucket key holding it when large. */
  /** Worker events: when the job entered setup and running, repeated on later events so that the
   * processor can apply a job's last event alone and still record every timestamp. */
  setupTime?: string;
  runningTime?: string;
  /** Worker events: when the job was submitted (its record's Submit), for the queued and total durations. */
  submitTime?: string;
  /**
   * job.setup, job.running, job.heartbeat: when the attempt's lease on its message ends at the
   * earliest (ISO-8601). Until then the attempt is live and other workers leave the job alone
   * (worker/lease.ts).
   */
  leaseUntil?: string;
  outputJson?: string;
  outputKey?: string;
  message?: string;
  errorClass?: ErrorClass;
  /**
   * The X-Ray trace header of the request the event belongs to (core/tracing/trace-header.ts):
   * from the start call through the submit publisher to the worker, which logs it with the job.
   */
  trace?: string;
  /** job.submit: what the worker needs to run the job without reading the store first. */
  input?: Record<string, unknown>;
  initialize?: boolean;
  reset?: boolean;
}

/** SNS message attributes for an event: exactly the routing fields that are set. */
export function eventAttributes(
  event: FoqusEvent,
): Record<string, { DataType: "String"; StringValue: string }> {
  const attributes: Record<string, { DataType: "String"; StringValue: string }> = {};
  const routing: [string, string | undefined][] = [
    ["event", event.event],
    ["username", event.username],
    ["session", event.session],
    ["job", event.job],
    ["application", event.application],
  ];
  for (const [name, value] of routing) {
    if (value) attributes[name] = { DataType: "String", StringValue: value };
  }
  return attributes;
}
