/**
 * @module sessions/session-finished
 * "The last job of a started session ended": decided by the update processor after it ended a
 * job, and told to the user once, on the deployment's notification topic with the user's name
 * as a message attribute (an email subscription's filter policy reaches only that user).
 *
 * Cheap for the many jobs that are not the last: a job numbered below the count of jobs ever
 * started (results/result-store.ts readClaimed, remembered: it only grows) cannot be the last,
 * so only the ends at or past it look for jobs still in flight. The job with the highest finish
 * number was written last (numbers are handed out by one counter), so its processor's look sees
 * every other end.
 *
 * The decision is keyed by the session's finish count (results/result-store.ts
 * decideSessionFinished): every processor that sees the session idle reads the same count, and
 * only one moves the decision to it. Jobs appended and started after that raise the count, so the
 * session notifies again when those end. A notice decided but not yet recorded as sent (a crash,
 * a failed publish) is sent by the retry: at least once, and once in all but that case.
 */

import { snsModule } from "../aws/client-modules.ts";
import { config } from "../config.ts";
import { countJobsByState, hasJobsInFlight } from "../jobs/job-read-store.ts";
import type { JobState } from "../jobs/states.ts";
import {
  decideSessionFinished,
  markNotified,
  readClaimed,
  readFinishCounter,
} from "../results/result-store.ts";

const MAX_REMEMBERED = 1000;
const claimedCounts = new Map<string, number>();

/** Whether finish number `seq` may be the session's last: not below the jobs ever started. */
async function mayBeLast(sessionId: string, seq: number): Promise<boolean> {
  const known = claimedCounts.get(sessionId);
  if (known !== undefined && seq < known) return false;
  const claimed = await readClaimed(sessionId);
  claimedCounts.delete(sessionId);
  claimedCounts.set(sessionId, claimed);
  if (claimedCounts.size > MAX_REMEMBERED) claimedCounts.delete(claimedCounts.keys().next().value as string);
  return seq >= claimed;
}

/** After the job numbered `seq` ended: if it was the session's last in flight, tell its user once. */
export async function notifyIfSessionFinished(
  username: string,
  sessionId: string,
  seq: number,
): Promise<boolean> {
  if (!(await mayBeLast(sessionId, seq))) return false;
  if (await hasJobsInFlight(sessionId)) return false;
  const count = await readFinishCounter(sessionId);
  if (count === 0) return false;
  const decision = await decideSessionFinished(sessionId, count);
  if (decision !== true && !(decision.decided === count && decision.sent < count)) return false;
  const counts = await countJobsByState(sessionId);
  // Loaded here, once per session: the processor's other work publishes nothing.
  const { PublishCommand, snsClient } = await snsModule();
  await snsClient().send(
    new PublishCommand({
      TopicArn: config.notificationTopicArn,
      Subject: "FOQUS Cloud: your session finished",
      Message: finishedMessage(sessionId, counts),
      MessageAttributes: {
        username: { DataType: "String", StringValue: username },
        session: { DataType: "String", StringValue: sessionId },
        event: { DataType: "String", StringValue: "session.finished" },
      },
    }),
  );
  await markNotified(sessionId, count);
  return true;
}

export function finishedMessage(sessionId: string, counts: Record<JobState, number>): string {
  const lines = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `  ${state.padEnd(10)} ${n}`);
  return [
    `Every started job of session ${sessionId} has ended.`,
    "",
    "Jobs per state:",
    ...lines,
    "",
    "Read the results:",
    `  foqus-cloud session results ${sessionId} --out results.csv`,
    `  or page them over the API: POST /session/${sessionId}/result/<gen>, then GET /session/${sessionId}/result/<gen>/<page>`,
    "On the free plan results stay readable for a grace period, then are archived until an upgrade.",
  ].join("\n");
}
