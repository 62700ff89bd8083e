/**
 * @module results/session-results
 * The result routes' calls: each checks that the caller owns the session, then closes or reads
 * a page through result-store.ts. A page is marked read only once its records were assembled.
 */
import { NotFoundError } from "../errors.ts";
import type { JobRecord } from "../jobs/job.ts";
import { getSession } from "../sessions/session-store.ts";
import { jobItemsToFullRecords } from "./job-records.ts";
import { assertValidGenerator, closeResultPage, markPageRead, readResultPage } from "./result-store.ts";

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

function pageNumber(raw: string): number {
  const page = Number(raw);
  if (!Number.isInteger(page) || page < 1) {
    throw new NotFoundError(
      "PageNotFound",
      `Result page "${raw}" does not exist: pages are numbered from 1.`,
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
  const records = await jobItemsToFullRecords(await readResultPage(session.SessionId, gen, page));
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
