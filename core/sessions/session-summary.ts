/**
 * @module sessions/session-summary
 * `GET /session/{sid}/summary`: where a session stands (its state, how many of its jobs are in
 * each job state, and any fan-out in progress) without listing its jobs, for progress bars in
 * the console and the CLI. The states are counted side by side, not in one snapshot: a job that
 * changes state meanwhile can be counted in both states, or in neither, so while jobs move the
 * counts (and `Jobs`, their sum) are within the number moving; they are exact once jobs rest.
 */
import { countJobsByState } from "../jobs/job-read-store.ts";
import { type JobState, TERMINAL_STATES } from "../jobs/states.ts";
import { type FanOutKind, getSession, type SessionState } from "./session-store.ts";

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
  /**
   * Work on the session's jobs that the backend is doing a page at a time (a start, stop, kill or
   * delete larger than one API call does itself: sessions/fan-out.ts), or null when none is in
   * progress. `Jobs`: the jobs it changed so far.
   */
  FanOut: { Kind: FanOutKind; Since: string; Jobs: number } | null;
}

/** The caller's session summarised; SessionNotFound for a missing or somebody else's id. */
export async function summarizeSession(username: string, sessionId: string): Promise<SessionSummary> {
  // A session being deleted is summarised too: its counts fall to nothing, then it is gone.
  const session = await getSession(username, sessionId, { deleting: "allow" });
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
    FanOut: session.FanOut
      ? { Kind: session.FanOut.Kind, Since: session.FanOut.Since, Jobs: session.FanOut.Jobs }
      : null,
  };
}
