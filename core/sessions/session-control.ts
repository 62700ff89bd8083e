/**
 * @module sessions/session-control
 * Start, stop, kill and delete a session.
 *
 * - start: claims each job in `create` or `pause` with a conditional write to `submit`. That is
 *   all it does: each claim reaches the jobs table's stream, and the submit publisher sends its
 *   `job.submit` (jobs/submit-outbox.ts), so a start that fails or dies after a claim still gets
 *   that job run. A retried start claims only what is still unclaimed.
 * - stop: moves `submit` jobs back to `pause`; workers skip a paused job they receive, and
 *   running jobs finish.
 * - kill: marks the session killed (appends fail from then on) and publishes `job.terminate`
 *   for every unfinished job; the update processor ends them and running workers see it on
 *   their next heartbeat.
 */
import { deletePrefix } from "../aws/s3-prefix.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { mapLimit } from "../concurrency.ts";
import { config } from "../config.ts";
import { newEvent, publishEvents } from "../events/event-publisher.ts";
import { EventTypes } from "../events/events.ts";
import { deleteSessionJobs, listJobsInState, moveJob } from "../jobs/job-store.ts";
import { KILLABLE_STATES } from "../jobs/states.ts";
import { deleteSessionOutputs } from "../results/output-store.ts";
import { addClaimed, deleteSessionResults } from "../results/result-store.ts";
import { deleteSessionArchiveItems } from "../tiers/archive-store.ts";
import { deleteSessionRecord, getOpenSession, getSession, markSessionKilled } from "./session-store.ts";

const WRITE_CONCURRENCY = 16;

export async function startSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<string[]> {
  await getOpenSession(username, sessionId);
  const now = isoNow(clock);
  const claimed: string[] = [];
  for (const from of ["create", "pause"] as const) {
    const candidates = await listJobsInState(sessionId, from);
    const moved = await mapLimit(candidates, WRITE_CONCURRENCY, (job) =>
      moveJob(sessionId, job.JobId, from, "submit", { field: "Submit", value: now }),
    );
    candidates.forEach((job, i) => {
      if (moved[i]) claimed.push(job.JobId);
    });
    // Jobs started for the first time: the processor tells the session finished only once as
    // many jobs have ended (sessions/session-finished.ts), so most ends cost it no look.
    const firstStarts = moved.filter(Boolean).length;
    if (from === "create" && firstStarts > 0) await addClaimed(sessionId, firstStarts);
  }
  return claimed;
}

export async function stopSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<string[]> {
  await getSession(username, sessionId);
  const submitted = await listJobsInState(sessionId, "submit");
  const moved = await mapLimit(submitted, WRITE_CONCURRENCY, (job) =>
    moveJob(sessionId, job.JobId, "submit", "pause"),
  );
  await publishEvents([
    newEvent({ event: EventTypes.sessionStop, time: isoNow(clock), username, session: sessionId }),
  ]);
  return submitted.filter((_, i) => moved[i]).map((job) => job.JobId);
}

export async function killSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<string[]> {
  await getSession(username, sessionId);
  await markSessionKilled(username, sessionId, clock);
  const now = isoNow(clock);
  const unfinished = (
    await Promise.all(KILLABLE_STATES.map((state) => listJobsInState(sessionId, state)))
  ).flat();
  await publishEvents([
    newEvent({ event: EventTypes.sessionKill, time: now, username, session: sessionId }),
    ...unfinished.map((job) =>
      newEvent({
        event: EventTypes.jobTerminate,
        time: now,
        username,
        session: sessionId,
        job: job.JobId,
        application: job.Application,
        message: "Session killed",
      }),
    ),
  ]);
  return unfinished.map((job) => job.JobId);
}

/**
 * Deletes a session: kills what still runs, then removes its jobs, result pages, outputs and archives, and
 * the session record last, so a delete that fails half-way can simply be repeated. Answers the
 * number of jobs deleted (what `turbine_session_delete` prints).
 */
export async function deleteSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<number> {
  await killSession(username, sessionId, clock);
  const deleted = await deleteSessionJobs(sessionId);
  await deleteSessionResults(sessionId);
  await deleteSessionOutputs(username, sessionId);
  // Archived results too: their objects (archive storage deletes like any other), then their items.
  await deletePrefix(config.resultsBucket, `archives/${username}/${sessionId}/`);
  await deleteSessionArchiveItems(username, sessionId);
  await deleteSessionRecord(username, sessionId);
  return deleted.length;
}
