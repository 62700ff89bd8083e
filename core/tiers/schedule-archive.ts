/**
 * @module tiers/schedule-archive
 * The update processor's part in archiving: after a free user's job ended, make sure the
 * session has a pending archive request, due when the grace period of that job is over. One
 * request per session per grace period, whatever the number of its jobs: the request archives
 * every result past its grace and sends the next one for the rest (tiers/archive-session.ts).
 *
 * Cheap on the hot path: the user's plan and the session's pending request are remembered for a
 * while, so most finished jobs cost no request here. A remembered request is trusted only until
 * shortly before it is due (clocks of two hosts differ a little): a job that ends after that
 * asks the table again.
 */

import { config } from "../config.ts";
import type { Plan } from "../users/user.ts";
import { getUser } from "../users/user-store.ts";
import { markPending, setPendingSchedule } from "./archive-store.ts";
import { delayedRequests } from "./delayed-requests.ts";

const PLAN_CACHE_MS = 60_000;
const MAX_REMEMBERED = 1000;
const plans = new Map<string, { plan: Plan | undefined; until: number }>();
const pendingUntil = new Map<string, number>();

/** How long before a remembered request is due this process stops counting on it. */
const CLOCK_MARGIN_MS = 2_000;

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
}

async function planOf(username: string, now: number): Promise<Plan | undefined> {
  const known = plans.get(username);
  if (known && known.until > now) return known.plan;
  const plan = (await getUser(username))?.Plan;
  remember(plans, username, { plan, until: now + PLAN_CACHE_MS });
  return plan;
}

/** After job number `seq` of the session ended: an archive request is pending for it (free plan). */
export async function scheduleArchive(
  username: string,
  sessionId: string,
  seq: number,
  now = Date.now(),
): Promise<void> {
  const grace = config.archiveGraceSeconds;
  const known = pendingUntil.get(sessionId);
  if (known !== undefined && now < known - CLOCK_MARGIN_MS) return;
  if ((await planOf(username, now)) !== "free") return;
  const at = now + grace * 1000;
  // Sent before it is recorded: a crash in between leaves a request that finds itself
  // superseded, never a recorded request that nothing delivers.
  const { schedule } = await delayedRequests.sendAt(
    { kind: "archive", username, sessionId, at, graceSeconds: grace },
    now,
  );
  const marked = await markPending(username, sessionId, at, seq, now);
  if (!marked.marked) {
    remember(pendingUntil, sessionId, marked.until);
    if (schedule) await delayedRequests.cancel(schedule); // not needed: another request stands
    return;
  }
  if (schedule) await setPendingSchedule(username, sessionId, at, schedule);
  remember(pendingUntil, sessionId, at);
}

/** Forgets what this process remembered (tests that change plans under a running processor). */
export function forgetArchiveSchedules(): void {
  plans.clear();
  pendingUntil.clear();
}
