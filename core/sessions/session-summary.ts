/**
 * @module sessions/session-summary
 * `GET /session/{sid}/summary`: where a session stands (its state and how many of its jobs are
 * in each job state) without listing its jobs, for progress bars in the console and the CLI.
 */
import { countJobsByState } from "../jobs/job-read-store.ts";
import { type JobState, TERMINAL_STATES } from "../jobs/states.ts";
import { getSession, type SessionState } from "./session-store.ts";

/** What the summary route answers. */
export interface SessionSummary {
  Session: string;
  State: SessionState;
  Created: string;
  Killed: string | null;
  /** Every job of the session. */
  Jobs: number;
  /** Jobs in a terminal state (success, error, terminate, expired). */
  Finished: number;
  /** Jobs per state; every state is present, zeros included. */
  Counts: Record<JobState, number>;
}

/** The caller's session summarised; SessionNotFound for a missing or somebody else's id. */
export async function summarizeSession(username: string, sessionId: string): Promise<SessionSummary> {
  const session = await getSession(username, sessionId);
  const counts = await countJobsByState(session.SessionId);
  const jobs = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const finished = TERMINAL_STATES.reduce((sum, state) => sum + counts[state], 0);
  return {
    Session: session.SessionId,
    State: session.State,
    Created: session.Created,
    Killed: session.Killed ?? null,
    Jobs: jobs,
    Finished: finished,
    Counts: counts,
  };
}
