/**
 * @module jobs/job-metrics
 * What the update processor's batch did to jobs, as the operations dashboard and alarms read it
 * (terraform/modules/dashboard/README.md): jobs entering each state, the queued, setup, running
 * and total durations of the jobs that ended, and the jobs ended worker-lost. Pure: the processor adds
 * each applied event, then publishes one embedded-metric document per dimension value.
 */
import { ErrorClasses, EVENT_TARGET_STATE, EventTypes, type FoqusEvent } from "../events/events.ts";
import { isTerminal } from "./states.ts";

export interface JobMetrics {
  /** Jobs that entered each state (submit counted from the submit publisher's events). */
  entered: Record<string, number>;
  /**
   * Seconds per phase: queued (submit → setup), setup (setup → running), running (running → its
   * end), total (submit → its end).
   */
  durations: Record<string, number[]>;
  workerLost: number;
}

export function emptyJobMetrics(): JobMetrics {
  return { entered: {}, durations: {}, workerLost: 0 };
}

const seconds = (from: string | undefined, to: string | undefined): number | undefined => {
  const span = (Date.parse(to ?? "") - Date.parse(from ?? "")) / 1000;
  return Number.isFinite(span) && span >= 0 ? span : undefined;
};

/** Counts one event whose write applied (or, for job.submit, that the processor saw). */
export function countAppliedEvent(metrics: JobMetrics, event: FoqusEvent): void {
  const to = EVENT_TARGET_STATE[event.event];
  if (!to || !event.job) return;
  metrics.entered[to] = (metrics.entered[to] ?? 0) + 1;
  if (!isTerminal(to)) return;
  const phases: [string, number | undefined][] = [
    ["queued", seconds(event.submitTime, event.setupTime)],
    ["setup", seconds(event.setupTime, event.runningTime)],
    ["running", seconds(event.runningTime, event.time)],
    ["total", seconds(event.submitTime, event.time)],
  ];
  for (const [phase, value] of phases) {
    if (value === undefined) continue;
    metrics.durations[phase] = [...(metrics.durations[phase] ?? []), value];
  }
  if (event.event === EventTypes.jobError && event.errorClass === ErrorClasses.workerLost)
    metrics.workerLost += 1;
}
