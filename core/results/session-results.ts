/**
 * @module results/session-results
 * The result routes' calls: each checks that the caller owns the session, then closes or reads
 * a page through result-store.ts. A page's answer must fit one Lambda response: a page whose
 * records do not fit is ended early (its rest goes to the next page), and it is marked read only
 * once its answer was built and fits.
 */
import { ArchivedError, NotFoundError, PayloadTooLargeError } from "../errors.ts";
import type { JobItem, JobRecord } from "../jobs/job.ts";
import { MAX_PAGE_BODY_BYTES } from "../limits.ts";
import { getSession } from "../sessions/session-store.ts";
import { fullRecordsWithin } from "./job-records.ts";
import {
  archivedMessage,
  assertValidGenerator,
  closeResultPage,
  markPageRead,
  readResultPage,
  shrinkResultPage,
} from "./result-store.ts";

/** Closes the next page of the caller's session; answers the newest page's number. */
export async function closeSessionResultPage(
  username: string,
  sessionId: string,
  gen: string,
): Promise<number> {
  assertValidGenerator(gen);
  const session = await getSession(username, sessionId);
  return closeResultPage(session.SessionId, gen);
}

/** Digits only: Number() would read "0x1", "1e0", " 1" and "1.0" as page 1. */
const PAGE_NUMBER = /^[0-9]{1,15}$/;

function pageNumber(raw: string): number {
  const page = PAGE_NUMBER.test(raw) ? Number(raw) : 0;
  if (page < 1) {
    throw new NotFoundError(
      "PageNotFound",
      `Result page "${raw}" does not exist: pages are numbered from 1, in digits only.`,
    );
  }
  return page;
}

/** The records of a closed page, in finish order, with every output in place. */
export async function readSessionResultPage(
  username: string,
  sessionId: string,
  gen: string,
  rawPage: string,
): Promise<JobRecord[]> {
  assertValidGenerator(gen);
  const session = await getSession(username, sessionId);
  const page = pageNumber(rawPage);
  const items = await readResultPage(session.SessionId, gen, page);
  // Closed before its records were archived, read after: nothing of it can be given yet.
  if (items.some((item) => item.ArchiveUnit)) {
    throw new ArchivedError(archivedMessage(session.SessionId), { details: { page } });
  }
  const records = await fullRecordsWithin(items, MAX_PAGE_BODY_BYTES);
  if (records.length < items.length) {
    // Too large for one response: the page ends at what fits, the rest go to the next page.
    const [first] = items as [JobItem];
    const fitting = records.length > 0 ? items[records.length - 1] : first;
    await shrinkResultPage(session.SessionId, gen, page, fitting?.Seq ?? 0);
    if (records.length === 0) {
      // Not even its first record fits: this page is given up, so that the session keeps paging.
      await markPageRead(session.SessionId, gen, page);
      throw new PayloadTooLargeError(
        `Result page ${page} holds job ${first.JobId}, whose record is too large for one response (more than ${MAX_PAGE_BODY_BYTES} bytes of JSON, mostly its Output); the page is skipped so the next close goes on with the jobs after it. Its state is in GET /session/${session.SessionId}.`,
        { details: { jobId: first.JobId, page } },
      );
    }
  }
  // Only now, with an answer that fits: the next close may open a new page.
  await markPageRead(session.SessionId, gen, page);
  return records;
}

/** The legacy generator calls: they only check that the session is the caller's. */
export async function checkSessionGenerator(
  username: string,
  sessionId: string,
  gen?: string,
): Promise<void> {
  if (gen !== undefined) assertValidGenerator(gen);
  await getSession(username, sessionId);
}
