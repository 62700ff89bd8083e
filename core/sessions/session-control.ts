/**
 * @module sessions/session-control
 * Start, stop, kill and delete a session. Each call changes at most FANOUT_INLINE_JOBS jobs
 * itself and leaves the rest to backend pages (sessions/fan-out.ts), so no call grows with its
 * session; a session within that size is done before the call answers, exactly as before.
 *
 * - start: claims each job in `create` or `pause` with a conditional write to `submit`, in
 *   transactions of up to 100 (jobs/claim-jobs.ts). That is all it does: each claim reaches the
 *   jobs table's stream, and the submit publisher sends its `job.submit` (jobs/submit-outbox.ts),
 *   so a start that fails or dies after a claim still gets that job run. A retried start claims
 *   only what is still unclaimed. Answers the jobs this call submitted itself.
 * - stop: moves `submit` jobs back to `pause`; workers skip a paused job they receive, and
 *   running jobs finish. It ends a start's fan-out first (and a start ends a stop's).
 * - kill: marks the session killed (appends fail from then on, any fan-out ends) and publishes
 *   `job.terminate` for every unfinished job; the update processor ends them and running
 *   workers see it on their next heartbeat.
 * - delete: marks the session deleting (every route but DELETE and the summary answers 409
 *   SessionDeleting from then on), then removes its jobs, result items, outputs and archives, and
 *   the session record last. Answers the number of jobs the session held.
 */
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { newEvent, publishEvents } from "../events/event-publisher.ts";
import { EventTypes } from "../events/events.ts";
import { countJobKeys, queryJobKeys } from "../jobs/job-key-pages.ts";
import { KILLABLE_STATES } from "../jobs/states.ts";
import { deletePage, handOver, killPage, startPage, stopPage, terminateEvent } from "./fan-out.ts";
import { clearFanOut } from "./fan-out-store.ts";
import {
  FanOutKinds,
  getOpenSession,
  getSession,
  markSessionDeleting,
  markSessionKilled,
} from "./session-store.ts";

export async function startSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<string[]> {
  const session = await getOpenSession(username, sessionId);
  if (session.FanOut?.Kind === FanOutKinds.stop) await clearFanOut(username, sessionId, FanOutKinds.stop);
  const page = await startPage({ session, budget: config.fanOutInlineJobs, clock });
  if (!page.done) await handOver(session, FanOutKinds.start, page, clock);
  return page.ids;
}

export async function stopSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<string[]> {
  const session = await getSession(username, sessionId);
  if (session.FanOut?.Kind === FanOutKinds.start) await clearFanOut(username, sessionId, FanOutKinds.start);
  const page = await stopPage({ session, budget: config.fanOutInlineJobs, clock });
  await publishEvents([
    newEvent({ event: EventTypes.sessionStop, time: isoNow(clock), username, session: sessionId }),
  ]);
  if (!page.done) await handOver(session, FanOutKinds.stop, page, clock);
  return page.ids;
}

export async function killSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
): Promise<string[]> {
  await getSession(username, sessionId);
  const session = await markSessionKilled(username, sessionId, clock);
  const kill = newEvent({ event: EventTypes.sessionKill, time: isoNow(clock), username, session: sessionId });
  const page = await killPage({ session, budget: config.fanOutInlineJobs, clock }, undefined, [kill]);
  if (!page.done) await handOver(session, FanOutKinds.kill, page, clock);
  return page.ids;
}

/**
 * Deletes a session: marks it deleting (appends, starts and reads refused), then removes its
 * jobs, result pages, outputs and archives, and the session record last, so a delete that fails
 * half-way can simply be repeated (it resumes where it stopped). Answers the number of jobs the
 * session held (what `turbine_session_delete` prints). Within `budget` jobs (default
 * FANOUT_INLINE_JOBS) all of it is done before the answer, each unfinished job sent its
 * terminate first as a kill does; a larger session is deleted by backend pages, without
 * terminate events (a worker sees its job gone at its next heartbeat and stops, as for a kill).
 */
export async function deleteSession(
  username: string,
  sessionId: string,
  clock: Clock = systemClock,
  options: { budget?: number } = {},
): Promise<number> {
  await getSession(username, sessionId, { deleting: "allow" });
  const session = await markSessionDeleting(username, sessionId, clock);
  const budget = options.budget ?? config.fanOutInlineJobs;
  const kill = newEvent({ event: EventTypes.sessionKill, time: isoNow(clock), username, session: sessionId });
  const { keys } = await queryJobKeys(sessionId, { limit: budget + 1 });
  let held = keys.length;
  if (keys.length <= budget) {
    const unfinished = keys.filter((job) => KILLABLE_STATES.includes(job.State));
    await publishEvents([kill, ...unfinished.map((job) => terminateEvent(session, job, kill.time))]);
  } else {
    await publishEvents([kill]);
    held = await countJobKeys(sessionId);
  }
  const page = await deletePage({ session, budget, clock });
  if (!page.done) await handOver(session, FanOutKinds.delete, page, clock);
  return held;
}
