/**
 * @module users/remove-user
 * Removing a user and everything they owned, so that a new user of the same name starts empty.
 *
 * Tombstone first, not the user item last. The steps, each safe to repeat:
 *   1. The user item becomes a tombstone (user-store.ts markUserRemoved): no password hash, no
 *      roles, `Removed` set. The user can log in nowhere from now on, except with a credential
 *      an authorizer verified before (see 4), and `foqus-admin add` of the name is refused.
 *   2. Every session is deleted as `DELETE /session/{sid}` does (session-control.ts
 *      deleteSession: kill, jobs, result items, output objects, the session record last), then
 *      every simulation as `DELETE /simulation/{name}` does (its staged files, then its record).
 *   3. The user's S3 prefixes are swept: output objects and staged files that no record names any
 *      more (a worker's output written after its session was deleted, a presigned upload into a
 *      simulation deleted meanwhile).
 *   4. The tombstone is deleted, freeing the name, but only once every credential verified
 *      before step 1 has expired from the caches: the authorizer's own (CREDENTIAL_CACHE_SECONDS)
 *      and API Gateway's (AUTHORIZER_CACHE_SECONDS), plus the longest request (REQUEST_MARGIN).
 *      Until then a cached credential of the removed user still authenticates as that name, so
 *      it could create sessions after step 2 and, were the name free, reach a new user's data.
 *      A removal run before then does steps 1-3 and answers when to run it again; that run
 *      sweeps what such a credential may have written and releases the name.
 *
 * Why not delete the user item last, with no tombstone: the user would stay able to log in
 * (and to write) while their data is deleted, so anything written after a step had listed its
 * items would be left behind for the next owner of the name; and nothing would hold the name
 * while cached credentials still act for it. Why not keep the tombstone for ever: names are
 * the operator's to reuse (an employee leaves, the account name comes back).
 *
 * A removal that fails half-way leaves a tombstone: the user cannot log in and the name cannot
 * be taken, and running `foqus-admin remove` again continues where it stopped (every step skips
 * what is already gone).
 */
import { deletePrefix } from "../aws/s3-prefix.ts";
import { type Clock, isoNow, systemClock } from "../clock.ts";
import { config } from "../config.ts";
import { isErrorOf, NotFoundError } from "../errors.ts";
import { deleteUserOutputs } from "../results/output-store.ts";
import { deleteSession } from "../sessions/session-control.ts";
import { listSessionIds } from "../sessions/session-store.ts";
import { deleteSimulation } from "../simulations/simulation-actions.ts";
import { deleteUserInputFiles } from "../simulations/simulation-files.ts";
import { listSimulations } from "../simulations/simulation-store.ts";
import { markUserRemoved, releaseRemovedUser } from "./user-store.ts";

/** Beyond the caches: a request authorised just before they expire may still be running (29 s). */
const REQUEST_MARGIN_SECONDS = 60;

/** What a removal did. */
export interface RemovalReport {
  username: string;
  sessions: number;
  jobs: number;
  simulations: number;
  /** Output objects and staged files found by the final sweep (beyond the sessions' and simulations' own). */
  strayObjects: number;
  /** When the removal started (the tombstone's `Removed`). */
  removed: string;
  /** From when the name can be released: the credential caches have expired by then. */
  reusableFrom: string;
  /** Whether the tombstone is gone and the name is free; when not, run the removal again after `reusableFrom`. */
  released: boolean;
}

/** How long after a removal a credential verified before it may still be honoured, in seconds. */
export function credentialTrustSeconds(): number {
  return Math.max(config.credentialCacheSeconds, config.authorizerCacheSeconds) + REQUEST_MARGIN_SECONDS;
}

/**
 * Reads every setting a removal needs before anything is changed, so a missing one fails with
 * ConfigError instead of half-way (which would be safe to repeat, but needlessly so).
 */
export function assertRemovalConfigured(): void {
  void [
    config.usersTable,
    config.sessionsTable,
    config.jobsTable,
    config.resultsTable,
    config.simulationsTable,
    config.archivesTable,
    config.simulationsBucket,
    config.resultsBucket,
    config.updateTopicArn,
  ];
}

/** Deleting something the user (or a concurrent removal) already deleted is success. */
async function unlessGone<T>(work: () => Promise<T>, gone: T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) return gone;
    throw error;
  }
}

/** Removes the user and everything they owned; safe to repeat (see the module header). */
export async function removeUser(username: string, clock: Clock = systemClock): Promise<RemovalReport> {
  assertRemovalConfigured();
  // The sweep below must start after the caches expired, or it could miss what a cached
  // credential writes before they do: release is decided by this run's start, not its end.
  const started = clock().getTime();
  const tombstone = await markUserRemoved(username, clock);
  const removed = tombstone.Removed ?? isoNow(clock);

  const sessionIds = await listSessionIds(username);
  let jobs = 0;
  // All of it here, however large: the operator's command is no API call, and has no backend to wait on.
  for (const sessionId of sessionIds)
    jobs += await unlessGone(
      () => deleteSession(username, sessionId, clock, { budget: Number.POSITIVE_INFINITY }),
      0,
    );
  const simulations = await listSimulations(username);
  for (const simulation of simulations) {
    await unlessGone(() => deleteSimulation(username, simulation.Name), undefined);
  }
  const strayObjects =
    (await deleteUserOutputs(username)) +
    (await deleteUserInputFiles(username)) +
    (await deletePrefix(config.resultsBucket, `archives/${username}/`));

  const trustMs = credentialTrustSeconds() * 1000;
  const reusableAt = Date.parse(removed) + trustMs;
  const released =
    started >= reusableAt && (await releaseRemovedUser(username, new Date(started - trustMs).toISOString()));
  return {
    username,
    sessions: sessionIds.length,
    jobs,
    simulations: simulations.length,
    strayObjects,
    removed,
    reusableFrom: new Date(reusableAt).toISOString(),
    released,
  };
}
