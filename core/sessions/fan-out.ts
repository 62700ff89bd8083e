/**
 * @module sessions/fan-out
 * Work on all of a session's jobs, done a bounded page at a time, so that no API call grows
 * with its session: start (claims), stop (pauses), kill (terminate events) and delete (jobs,
 * result items, outputs, archives, the record last).
 *
 * An API call runs one page itself, within FANOUT_INLINE_JOBS jobs (config.fanOutInlineJobs):
 * a session of that size or less is done before the call answers, as before. When more remain,
 * the call records a fan-out on the session (FanOut: kind, id, the page due, the jobs changed so
 * far, and for kill where to go on) and sends page 1 to the fan-out queue; the fan-out function
 * (handlers/fan-out.ts) runs each page of FANOUT_PAGE_JOBS jobs and sends the next, until none
 * remain and the FanOut attribute is removed. GET /session/{sid}/summary shows it meanwhile.
 *
 * Each page, and why it is safe to run twice or out of turn:
 * - A message runs only when its fan-out is the session's current one and its page is the one
 *   due (FanOut.Page); a run moves the fan-out on (fan-out-store.ts advanceFanOut, conditional
 *   on that page) before it sends the next page. Copies of a message (redelivery, a duplicate)
 *   find the page moved on and stop, so a fan-out is one chain of pages, never two. A page whose
 *   run died after moving on but before sending its successor comes back (redelivered, its
 *   receive count above 1) to find itself one behind: it sends the successor again, and that is
 *   all it does.
 * - A page that dies before moving on runs again in full. Its work is idempotent: claims and
 *   pauses are conditional on the job's state (jobs/claim-jobs.ts), and the claimed count is
 *   added in the claims' own transactions, so nothing is claimed or counted twice; deletes of
 *   what is gone change nothing; a kill page publishes its terminate events again (the same
 *   event ids), which the update processor applies once (conditional on state, first terminal
 *   state wins).
 * - start, stop and delete keep no cursor: what a page changed left the state it reads, so the
 *   next page reads from the start again. kill cannot (terminating is the processor's work,
 *   later): it walks the killable states in the order jobs move forward (create, submit, pause,
 *   setup, running), so a job that moves while the walk is under way moves to a state still
 *   ahead of it. (pause → submit is a start, which a killed session refuses.)
 * - A fan-out ends where the session changed under it: a kill or a delete removes any fan-out
 *   (session-store.ts), a stop ends a start's and a start a stop's, a newer call of the same
 *   kind replaces it. Claims and pauses check their fan-out inside their transactions (the
 *   guard), so none commits after the change; kill and delete pages check it when they start.
 *
 * What an answer means when a fan-out is handed over: start answers the jobs the call itself
 * submitted (the others follow within seconds); kill and stop answer as always, their jobs
 * converging; delete answers the number of jobs the session held, removed meanwhile.
 */
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { publishEvents } from "../events/event-publisher.ts";
import { EventTypes, type FoqusEvent } from "../events/events.ts";
import { claimJobs, pauseJobs, type SessionGuard } from "../jobs/claim-jobs.ts";
import { type JobKey, type JobKeyCursor, queryJobKeys } from "../jobs/job-key-pages.ts";
import { type JobState, JobStates } from "../jobs/states.ts";
import { logger } from "../observability.ts";
import { deleteSessionArchiveItems } from "../tiers/archive-store.ts";
import {
  advanceFanOut,
  beginFanOut,
  deleteSessionRecordAfter,
  endFanOut,
  type FanOutMessage,
  sendFanOutPage,
} from "./fan-out-store.ts";
import { deleteJobPage, deleteObjectPage, deleteResultPage } from "./purge-store.ts";
import {
  deleteSessionRecord,
  type FanOutKind,
  FanOutKinds,
  type FanOutRecord,
  findSession,
  type SessionRecord,
  SessionStates,
} from "./session-store.ts";

/** What one page did. */
export interface PageResult {
  /** Jobs the page changed (claimed, paused, sent a terminate, deleted). */
  jobs: number;
  /** Their ids (start and stop: what the API call answers). */
  ids: string[];
  /** Nothing of the kind is left to do. */
  done: boolean;
  /** The session no longer allows the work (killed, or the fan-out replaced): it stops here. */
  refused?: boolean;
  /** Where the next page starts (kill, delete). */
  cursor?: Record<string, unknown>;
}

/** Who runs a page: the API call (no fan-out yet) or the backend (fan-out `fanOut`). */
export interface PageContext {
  session: SessionRecord;
  /** Most jobs the page changes (Infinity: all of them, for callers outside the API). */
  budget: number;
  fanOut?: FanOutRecord | undefined;
  clock?: Clock;
}

/** The session record's condition every claim or pause of a page commits with. */
function guardOf(context: PageContext, open: boolean): SessionGuard | undefined {
  const { Username: username, SessionId: sessionId } = context.session;
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (open) {
    parts.push("#state = :open");
    names["#state"] = "State";
    values[":open"] = SessionStates.open;
  }
  if (context.fanOut) {
    parts.push("#fo.#id = :fanOut");
    names["#fo"] = "FanOut";
    names["#id"] = "Id";
    values[":fanOut"] = context.fanOut.Id;
  }
  return parts.length === 0
    ? undefined
    : { username, sessionId, expression: parts.join(" AND "), names, values };
}

/** The keys of up to `budget` jobs in `state`, and whether there are more. */
async function candidates(sessionId: string, state: JobState, budget: number) {
  // One more than the budget: whether any are left over, without another read.
  const { keys } = await queryJobKeys(sessionId, { state, limit: budget + 1 });
  return { ids: keys.slice(0, budget).map((key) => key.JobId), more: keys.length > budget };
}

/** start: create and pause → submit, stamping Submit (a claim, published by the submit outbox). */
export async function startPage(context: PageContext): Promise<PageResult> {
  const sessionId = context.session.SessionId;
  const now = isoNow(context.clock ?? systemClock);
  const guard = guardOf(context, true);
  const ids: string[] = [];
  let budget = context.budget;
  let more = false;
  for (const from of [JobStates.create, JobStates.pause] as const) {
    if (budget <= 0) {
      if (!more) more = (await queryJobKeys(sessionId, { state: from, limit: 1 })).keys.length > 0;
      continue;
    }
    const found = await candidates(sessionId, from, budget);
    more ||= found.more;
    budget -= found.ids.length;
    const claimed = await claimJobs(sessionId, from, found.ids, now, guard);
    ids.push(...claimed.moved);
    if (claimed.refused) return { jobs: ids.length, ids, done: true, refused: true };
  }
  return { jobs: ids.length, ids, done: !more };
}

/** stop: submit → pause. */
export async function stopPage(context: PageContext): Promise<PageResult> {
  const sessionId = context.session.SessionId;
  const found = await candidates(sessionId, JobStates.submit, context.budget);
  const paused = await pauseJobs(sessionId, found.ids, guardOf(context, false));
  return {
    jobs: paused.moved.length,
    ids: paused.moved,
    done: !found.more || paused.refused,
    ...(paused.refused ? { refused: true } : {}),
  };
}

/**
 * The order a kill walks the killable states: the order jobs move in (create → submit → setup →
 * running; submit → pause is a stop), so a job that moves during the walk lands ahead of it.
 */
export const KILL_ORDER: readonly JobState[] = [
  JobStates.create,
  JobStates.submit,
  JobStates.pause,
  JobStates.setup,
  JobStates.running,
];

/** Where a kill's walk stands: the index of its state in KILL_ORDER, and the last entry read. */
interface KillCursor {
  state: number;
  after?: JobKeyCursor;
}

/** A job's terminate event from a kill: the same id each time the kill names the job. */
export function terminateEvent(session: SessionRecord, job: JobKey, time: string): FoqusEvent {
  return {
    id: `kill:${session.SessionId}/${job.JobId}/${session.Killed ?? time}`,
    event: EventTypes.jobTerminate,
    time,
    username: session.Username,
    session: session.SessionId,
    job: job.JobId,
    ...(job.Application ? { application: job.Application } : {}),
    message: "Session killed",
  };
}

/**
 * kill: a terminate event for up to `budget` unfinished jobs, from where the walk stands
 * (`cursor`, from the fan-out), with `alongside` in the same publish (the API call's
 * session.kill).
 */
export async function killPage(
  context: PageContext,
  cursor: KillCursor = { state: 0 },
  alongside: FoqusEvent[] = [],
): Promise<PageResult> {
  const { session, budget } = context;
  const now = isoNow(context.clock ?? systemClock);
  const jobs: JobKey[] = [];
  let at: KillCursor = cursor;
  while (jobs.length < budget && at.state < KILL_ORDER.length) {
    const { keys, next } = await queryJobKeys(session.SessionId, {
      state: KILL_ORDER[at.state],
      limit: budget - jobs.length,
      after: at.after,
    });
    jobs.push(...keys);
    at = next ? { state: at.state, after: next } : { state: at.state + 1 };
  }
  await publishEvents([...alongside, ...jobs.map((job) => terminateEvent(session, job, now))]);
  const done = at.state >= KILL_ORDER.length;
  return {
    jobs: jobs.length,
    ids: jobs.map((job) => job.JobId),
    done,
    ...(done ? {} : { cursor: at as unknown as Record<string, unknown> }),
  };
}

/** What a delete removes, in order; the session record last. */
export const DELETE_PHASES = ["jobs", "results", "outputs", "archives", "record"] as const;
type DeletePhase = (typeof DELETE_PHASES)[number];

/**
 * delete: from `cursor`'s phase on, one bounded page of each phase while the phases before it
 * are empty: up to `budget` jobs, then up to twice as many result items (a job's finish entry
 * and at most one closed page, plus the session's counters), then one list of up to 1,000
 * objects under outputs/ and under archives/. The last phase removes the archive items and the
 * session record: `removeRecord` (unconditional for the API call; for the backend, only while
 * its fan-out is the current one).
 */
export async function deletePage(
  context: PageContext,
  cursor: { phase?: DeletePhase } = {},
  removeRecord?: () => Promise<void>,
): Promise<PageResult> {
  const { session, budget } = context;
  const { Username: username, SessionId: sessionId } = session;
  let jobs = 0;
  for (let phase = DELETE_PHASES.indexOf(cursor.phase ?? "jobs"); phase < DELETE_PHASES.length; phase++) {
    const name = DELETE_PHASES[phase] as DeletePhase;
    let more: boolean;
    if (name === "jobs") {
      const page = await deleteJobPage(sessionId, budget);
      jobs += page.deleted.length;
      more = page.more;
    } else if (name === "results") more = (await deleteResultPage(sessionId, 2 * budget + 16)).more;
    else if (name === "outputs")
      more = (await deleteObjectPage(config.resultsBucket, `outputs/${username}/${sessionId}/`)).more;
    else if (name === "archives")
      more = (await deleteObjectPage(config.resultsBucket, `archives/${username}/${sessionId}/`)).more;
    else {
      await deleteSessionArchiveItems(username, sessionId);
      await (removeRecord ?? (() => deleteSessionRecord(username, sessionId)))();
      return { jobs, ids: [], done: true };
    }
    if (more) return { jobs, ids: [], done: false, cursor: { phase: name } };
  }
  return { jobs, ids: [], done: true };
}

/**
 * Hands what an API call's page left over to the backend: records the fan-out on the session
 * and sends its first page. Nothing when the session changed meanwhile (see beginFanOut).
 */
export async function handOver(
  session: SessionRecord,
  kind: FanOutKind,
  page: PageResult,
  clock: Clock = systemClock,
): Promise<FanOutRecord | undefined> {
  const fanOut = await beginFanOut(
    session.Username,
    session.SessionId,
    kind,
    { jobs: page.jobs, cursor: page.cursor },
    clock,
  );
  if (!fanOut) return undefined;
  await sendFanOutPage({ username: session.Username, sessionId: session.SessionId, id: fanOut.Id, page: 1 });
  logger.info("fan-out handed to the backend", {
    session: session.SessionId,
    kind,
    jobsInline: page.jobs,
  });
  return fanOut;
}

/** What running a fan-out message came to (logged; the message is acknowledged in every case). */
export type FanOutOutcome = "continued" | "done" | "superseded" | "duplicate" | "resent";

/**
 * Runs one page of a fan-out (the fan-out function's record handler). `redelivered`: the queue
 * delivered this message before (its receive count is above 1).
 */
export async function runFanOutPage(
  message: FanOutMessage,
  redelivered: boolean,
  clock: Clock = systemClock,
): Promise<FanOutOutcome> {
  const session = await findSession(message.username, message.sessionId);
  const fanOut = session?.FanOut;
  if (!session || !fanOut || fanOut.Id !== message.id) return "superseded";
  if (message.page !== fanOut.Page) {
    // One behind, delivered again: its earlier run moved the fan-out on and may have died before
    // it sent the successor. Sent again, the successor runs once (its copies find it moved on).
    if (message.page === fanOut.Page - 1 && redelivered) {
      await sendFanOutPage({ ...message, page: fanOut.Page });
      return "resent";
    }
    return "duplicate";
  }
  const context: PageContext = { session, budget: config.fanOutPageJobs, fanOut, clock };
  let page: PageResult;
  switch (fanOut.Kind) {
    case FanOutKinds.start:
      page = await startPage(context);
      break;
    case FanOutKinds.stop:
      page = await stopPage(context);
      break;
    case FanOutKinds.kill:
      page = await killPage(context, fanOut.Cursor as KillCursor | undefined);
      break;
    case FanOutKinds.delete:
      page = await deletePage(context, (fanOut.Cursor ?? {}) as { phase?: DeletePhase }, async () => {
        await deleteSessionRecordAfter(message.username, message.sessionId, fanOut.Id);
      });
      break;
  }
  if (page.refused) return "superseded";
  if (page.done) {
    // A delete's last page removed the record with the fan-out in it.
    if (fanOut.Kind !== FanOutKinds.delete) await endFanOut(message.username, message.sessionId, fanOut.Id);
    return "done";
  }
  const advanced = await advanceFanOut(message.username, message.sessionId, fanOut.Id, message.page, {
    jobs: page.jobs,
    cursor: page.cursor,
  });
  if (!advanced) return "duplicate"; // another run of this page moved it on first, and sends the next
  await sendFanOutPage({ ...message, page: message.page + 1 });
  return "continued";
}
