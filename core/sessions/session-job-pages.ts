/**
 * @module sessions/session-job-pages
 * `GET /session/{sid}/jobs?state=&limit=&after=`: one page of a session's jobs, optionally in
 * one state, so a view of a 10,000-job session reads only the rows it shows. `after` is the
 * opaque cursor the previous page answered as `Next` (DynamoDB's last key, base64url JSON); it
 * is checked against the session and the filter before it is used, so a cursor can never reach
 * into another session.
 */
import { ValidationError } from "../errors.ts";
import { type JobRecord, jobItemToRecord } from "../jobs/job.ts";
import { type JobPageKey, queryJobPage } from "../jobs/job-read-store.ts";
import { type JobState, JobStates } from "../jobs/states.ts";
import { getSession } from "./session-store.ts";

export const DEFAULT_JOB_PAGE_SIZE = 100;
export const MAX_JOB_PAGE_SIZE = 500;

/** What the route answers: the page's jobs (outputs kept in S3 show as null) and the next cursor. */
export interface JobPage {
  Jobs: JobRecord[];
  /** Pass as `after` for the next page; null on the last page. */
  Next: string | null;
}

/** The route's query parameters, unchecked. */
export interface JobPageRequest {
  state?: string | undefined;
  limit?: string | undefined;
  after?: string | undefined;
}

function stateOf(raw: string | undefined): JobState | undefined {
  if (raw === undefined || raw === "") return undefined;
  const states = Object.values(JobStates) as string[];
  if (!states.includes(raw)) {
    throw new ValidationError(`state must be one of ${states.join(", ")} (got "${raw}").`, "state");
  }
  return raw as JobState;
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_JOB_PAGE_SIZE;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_JOB_PAGE_SIZE) {
    throw new ValidationError(
      `limit must be a whole number from 1 to ${MAX_JOB_PAGE_SIZE} (got "${raw}").`,
      "limit",
    );
  }
  return limit;
}

function invalidCursor(): ValidationError {
  return new ValidationError(
    "after is not a cursor this route answered for this session and state; start again without after.",
    "after",
    "InvalidCursor",
  );
}

export function encodeJobCursor(key: JobPageKey): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** The key a cursor stands for, if it is one of this session's under this filter. */
export function decodeJobCursor(cursor: string, sessionId: string, state: JobState | undefined): JobPageKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor();
  }
  if (typeof key !== "object" || key === null || Array.isArray(key)) throw invalidCursor();
  const entries = Object.entries(key);
  const allowed = state === undefined ? ["SessionId", "JobId"] : ["SessionId", "JobId", "State"];
  const record = key as Record<string, unknown>;
  if (
    entries.length !== allowed.length ||
    entries.some(([name, value]) => !allowed.includes(name) || typeof value !== "string") ||
    record.SessionId !== sessionId ||
    (state !== undefined && record.State !== state)
  )
    throw invalidCursor();
  return record as JobPageKey;
}

/** One page of the caller's session's jobs; SessionNotFound for a missing or somebody else's id. */
export async function listSessionJobPage(
  username: string,
  sessionId: string,
  request: JobPageRequest,
): Promise<JobPage> {
  const state = stateOf(request.state);
  const limit = limitOf(request.limit);
  const startKey = request.after ? decodeJobCursor(request.after, sessionId, state) : undefined;
  const session = await getSession(username, sessionId);
  const { items, next } = await queryJobPage(session.SessionId, {
    limit,
    ...(state ? { state } : {}),
    ...(startKey ? { startKey } : {}),
  });
  return { Jobs: items.map((item) => jobItemToRecord(item)), Next: next ? encodeJobCursor(next) : null };
}
