/**
 * @module client/result-pages
 * The one result-page poll loop: FOQUS's poll step (close a page, read it if new) repeated. It
 * yields after every poll, new page or not, so a caller can show progress and decide when it has
 * all it wants; after a poll that found nothing new it waits `intervalMs` before the next one.
 *
 * Unlike FOQUS, which reads only the page number a close answers, it reads every page between
 * the last one it read and that number: when another reader of the same generator closed pages
 * in between, none is skipped. Each page is yielded on its own.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_GENERATOR, type FoqusClient, type JobRecord } from "./api-client.ts";

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
  /**
   * The page sequence to read (default FOQUS's own). A tool that reads a session FOQUS may be
   * reading too uses its own: pages one reader closes are pages the other's FOQUS-style poll
   * never sees.
   */
  generator?: string;
  signal?: AbortSignal;
}

export async function* resultPages(
  client: FoqusClient,
  sessionId: string,
  options: ResultPageOptions = {},
): AsyncGenerator<ResultPoll> {
  const gen = options.generator ?? DEFAULT_GENERATOR;
  let pagesRead = options.pagesRead ?? 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const newest = await client.closePage(sessionId, gen);
    if (newest <= pagesRead) {
      if (options.untilIdle) return;
      yield { page: newest, records: [] };
      await sleep(options.intervalMs ?? 500, undefined, { signal: options.signal });
      continue;
    }
    for (let page = pagesRead + 1; page <= newest; page++) {
      options.signal?.throwIfAborted();
      const records = await client.readPage(sessionId, page, gen);
      pagesRead = page;
      yield { page, records };
    }
  }
}

/** Every record of the pages that are ready now (the loop ends at the first idle poll). */
export async function readReadyPages(
  client: FoqusClient,
  sessionId: string,
  options: Pick<ResultPageOptions, "generator" | "pagesRead"> = {},
): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  for await (const poll of resultPages(client, sessionId, { ...options, untilIdle: true }))
    records.push(...poll.records);
  return records;
}
