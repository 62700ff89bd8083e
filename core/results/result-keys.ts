/**
 * @module results/result-keys
 * Sort keys of the results table (partition: SessionId). Numbers are zero-padded so that key
 * order is numeric order and a page is one BETWEEN range.
 *   SEQ                   the session's finish counter {Last}
 *   S#<seq>               the job that finished n-th {JobId}
 *   G#<gen>               a page sequence's cursor {Pages, Last, Read}
 *   P#<gen>#<page>        a closed page {First, Last}
 *   A#<hash>              the latest append of a body with this hash {JobIds} (retry detection)
 *   ARCHIVED              the finish-number ranges whose outputs are archived {R<first>: last, …}
 *   NOTIFY                the session-finished notification {Decided, Sent}: finish counts
 *   CLAIMED               how many jobs start ever moved from create to submit {Count}
 */
export const COUNTER_KEY = "SEQ";
export const ARCHIVED_KEY = "ARCHIVED";
export const NOTIFY_KEY = "NOTIFY";
export const CLAIMED_KEY = "CLAIMED";

export const seqKey = (seq: number): string => `S#${String(seq).padStart(12, "0")}`;
export const generatorKey = (gen: string): string => `G#${gen}`;
export const appendKey = (hash: string): string => `A#${hash}`;
export const pageKey = (gen: string, page: number): string => `P#${gen}#${String(page).padStart(8, "0")}`;

/** Most records one page holds, so a page always fits a Lambda response (6 MB). */
export const MAX_PAGE_RECORDS = 500;
