/**
 * @module sessions/session-listing
 * `GET /session/{sid}`: the jobs of the caller's session. Outputs kept in S3 are left out (null)
 * here: the result pages carry them in full.
 *
 * - Without `page` (or `page=0`, which the turbine client's paging meant as "all"): every job,
 *   in append order, for a session of up to SESSION_LISTING_MAX_JOBS jobs (10,000). A larger
 *   session answers 413 SessionTooLarge, saying how to page, after one count of at most that
 *   many index entries: never a listing that cannot fit one response.
 * - With `page=n` (from 1) and `rpp` (jobs per page, default 1,000, at most 5,000): the n-th
 *   run of rpp jobs in (State, Id) order, `[]` past the last. Reaching page n reads index
 *   entries only (jobs/job-key-pages.ts skipJobKeys), so each page costs about the same however
 *   deep it is; a job that changes state between two page reads may appear on two pages or on
 *   none.
 */
import { config } from "../config.ts";
import { PayloadTooLargeError, ValidationError } from "../errors.ts";
import { type JobRecord, jobItemToRecord } from "../jobs/job.ts";
import { countJobKeys, queryJobKeys, skipJobKeys } from "../jobs/job-key-pages.ts";
import { getJobs, listSessionJobs } from "../jobs/job-store.ts";
import { getSession, type SessionRecord } from "./session-store.ts";

export const DEFAULT_LISTING_RPP = 1000;
export const MAX_LISTING_RPP = 5000;

/** The route's paging parameters, unchecked (what the turbine client sends). */
export interface ListingRequest {
  page?: string | undefined;
  rpp?: string | undefined;
}

/** Digits only: Number() would read "0x1", "1e0", " 1" and "1.0" as 1. */
const WHOLE_NUMBER = /^[0-9]{1,9}$/;

function pageOf(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 0;
  if (!WHOLE_NUMBER.test(raw))
    throw new ValidationError(
      `page must be a whole number from 1 (0 or none: every job), got "${raw}".`,
      "page",
    );
  return Number(raw);
}

function rppOf(raw: string | undefined): number {
  if (raw === undefined || raw === "" || raw === "0") return DEFAULT_LISTING_RPP;
  const rpp = WHOLE_NUMBER.test(raw) ? Number(raw) : Number.NaN;
  if (!(rpp >= 1 && rpp <= MAX_LISTING_RPP))
    throw new ValidationError(
      `rpp must be a whole number from 1 to ${MAX_LISTING_RPP}, got "${raw}".`,
      "rpp",
    );
  return rpp;
}

/** How to read a session too large for one answer. */
export function pagingAdvice(sessionId: string): string {
  return `Read it page by page: GET /session/${sessionId}?page=1&rpp=${DEFAULT_LISTING_RPP}, then page=2, 3, … until a page answers [] (rpp up to ${MAX_LISTING_RPP}); GET /session/${sessionId}/summary counts its jobs per state without listing them.`;
}

function tooManyJobs(sessionId: string, max: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Session ${sessionId} has more than ${max} jobs, more than one answer lists. ${pagingAdvice(sessionId)}`,
    { details: { maxJobs: max } },
    "SessionTooLarge",
  );
}

/** The listing, and the session it lists (its state and any fan-out in progress). */
export interface SessionListing {
  session: SessionRecord;
  jobs: JobRecord[];
}

export async function listSessionJobRecords(
  username: string,
  sessionId: string,
  request: ListingRequest = {},
): Promise<SessionListing> {
  const page = pageOf(request.page);
  const rpp = rppOf(request.rpp);
  const session = await getSession(username, sessionId);
  if (page === 0) {
    const max = config.sessionListingMaxJobs;
    if ((await countJobKeys(sessionId, { upTo: max + 1 })) > max) throw tooManyJobs(sessionId, max);
    const jobs = await listSessionJobs(sessionId);
    jobs.sort((a, b) => (a.Ordinal < b.Ordinal ? -1 : a.Ordinal > b.Ordinal ? 1 : 0));
    return { session, jobs: jobs.map((job) => jobItemToRecord(job)) };
  }
  const start = await skipJobKeys(sessionId, (page - 1) * rpp);
  if (start === "end") return { session, jobs: [] };
  const { keys } = await queryJobKeys(sessionId, { limit: rpp, after: start });
  const byId = new Map(
    (
      await getJobs(
        sessionId,
        keys.map((key) => key.JobId),
      )
    ).map((job) => [job.JobId, job]),
  );
  // In the index's order; a job deleted between the two reads is simply absent.
  return {
    session,
    jobs: keys.flatMap((key) => byId.get(key.JobId) ?? []).map((job) => jobItemToRecord(job)),
  };
}
