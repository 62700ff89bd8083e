/**
 * @module client/result-pages
 * The one result-page poll loop: FOQUS's poll step (close a page, read it if new) repeated. It
 * yields after every poll, new page or not, so a caller can show progress and decide when it has
 * all it wants; after a poll that found nothing new it waits `intervalMs` before the next one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { FoqusClient, JobRecord } from "./api-client.ts";

export interface ResultPoll {
  /** The newest page number the session has. */
  page: number;
  /** The records of the page read by this poll (empty when no new page closed). */
  records: JobRecord[];
}

export interface ResultPageOptions {
  /** Pages already read (the loop reads only newer ones). */
  pagesRead?: number;
  /** Wait after a poll that found nothing new; default 500 ms. */
  intervalMs?: number;
  /** End at the first poll that finds nothing new, instead of waiting for more. */
  untilIdle?: boolean;
  signal?: AbortSignal;
}

export async function* resultPages(
  client: FoqusClient,
  sessionId: string,
  options: ResultPageOptions = {},
): AsyncGenerator<ResultPoll> {
  let pagesRead = options.pagesRead ?? 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const { page, records } = await client.pollResults(sessionId, pagesRead);
    const fresh = page > pagesRead;
    pagesRead = Math.max(pagesRead, page);
    if (!fresh && options.untilIdle) return;
    yield { page, records };
    if (!fresh) await sleep(options.intervalMs ?? 500, undefined, { signal: options.signal });
  }
}

/** Every record of the pages that are ready now (the loop ends at the first idle poll). */
export async function readReadyPages(client: FoqusClient, sessionId: string): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  for await (const poll of resultPages(client, sessionId, { untilIdle: true })) records.push(...poll.records);
  return records;
}
