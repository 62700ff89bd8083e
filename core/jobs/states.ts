/**
 * @module jobs/states
 * The job state machine, pure. A job only moves forward:
 *
 *   create ──start──> submit ──worker──> setup ──> running ──> success | error
 *      │                │  ▲
 *      │              stop  start
 *      │                ▼  │
 *      └─────────────── pause
 *   kill: create | submit | pause | setup | running ──> terminate
 *
 * Each state has a rank; an event applies only if it raises the rank, so duplicates and late
 * events change nothing. `pause` and `submit` are the exception: stop and start move a job back
 * and forth between them, which the store fences with an exact "from" state instead of a rank.
 * Terminal states (success, error, terminate, expired) are final and the first one wins.
 */

export const JobStates = {
  create: "create",
  pause: "pause",
  submit: "submit",
  setup: "setup",
  running: "running",
  success: "success",
  error: "error",
  terminate: "terminate",
  expired: "expired",
} as const;
export type JobState = (typeof JobStates)[keyof typeof JobStates];

/** Forward order. pause and submit share a rank: stop/start toggle between them. */
export const JOB_STATE_RANK: Record<JobState, number> = {
  create: 0,
  pause: 1,
  submit: 1,
  setup: 2,
  running: 3,
  success: 4,
  error: 4,
  terminate: 4,
  expired: 4,
};

export const TERMINAL_STATES: readonly JobState[] = ["success", "error", "terminate", "expired"];

/** States a kill moves to `terminate`. */
export const KILLABLE_STATES: readonly JobState[] = ["create", "pause", "submit", "setup", "running"];

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The states from which an event may move a job to `to` (what the conditional write allows). */
export function statesBefore(to: JobState): JobState[] {
  if (to === "submit") return ["create", "pause"];
  if (to === "pause") return ["submit"];
  if (to === "terminate") return [...KILLABLE_STATES];
  const rank = JOB_STATE_RANK[to];
  return (Object.keys(JOB_STATE_RANK) as JobState[]).filter(
    (state) => !isTerminal(state) && JOB_STATE_RANK[state] < rank,
  );
}

/** True when an event moving to `to` changes a job that is now in `from`. */
export function canTransition(from: JobState, to: JobState): boolean {
  return statesBefore(to).includes(from);
}
