/**
 * @module http/session — sessions and their jobs: create, list, append, start, stop, kill, delete;
 * and, for the console and the CLI, a session's counts per state and its jobs page by page.
 */
import { ValidationError } from "../../core/errors.ts";
import { appendJobsOnce } from "../../core/jobs/idempotent-append.ts";
import {
  deleteSession,
  killSession,
  startSession,
  stopSession,
} from "../../core/sessions/session-control.ts";
import { listSessionJobPage } from "../../core/sessions/session-job-pages.ts";
import { listSessionJobRecords, pagingAdvice } from "../../core/sessions/session-listing.ts";
import { createSession, listSessionIds, type SessionRecord } from "../../core/sessions/session-store.ts";
import { summarizeSession } from "../../core/sessions/session-summary.ts";
import { parseJsonBody } from "../../core/validation.ts";
import { createHttpHandler, type HttpRequest, type Routes } from "./http-handler.ts";
import { json } from "./respond.ts";

const APPEND_EXAMPLE = '[{"Simulation":"my-sim","Input":{"x":1}}]';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

function sessionId({ params }: HttpRequest): string {
  return params.sid ?? "";
}

/** `Foqus-Session-State` and, while the backend works on its jobs, `Foqus-Fan-Out`. */
function sessionHeaders(session: SessionRecord): Record<string, string> {
  const fanOut = session.FanOut;
  return {
    "foqus-session-state": session.State,
    ...(fanOut
      ? { "foqus-fan-out": `${fanOut.Kind}; since=${fanOut.Since}; jobs=${fanOut.Jobs}; page=${fanOut.Page}` }
      : {}),
  };
}

function idempotencyKeyOf(request: HttpRequest): string | undefined {
  const key = request.headers["idempotency-key"];
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError(
      "The Idempotency-Key header must be 1-128 visible ASCII characters (a UUID works).",
      "Idempotency-Key",
    );
  }
  return key;
}

export const routes: Routes = {
  "POST /session": async ({ caller }) => json((await createSession(caller.username)).SessionId),

  "GET /session": async ({ caller }) => json(await listSessionIds(caller.username)),

  // The jobs (whole, or a page with ?page=&rpp=), with the session's state and any fan-out in
  // progress in headers: a client polling a large start or kill sees it converge.
  "GET /session/{sid}": async (request) => {
    const { session, jobs } = await listSessionJobRecords(request.caller.username, sessionId(request), {
      page: request.query.page,
      rpp: request.query.rpp,
    });
    return json(jobs, {
      headers: sessionHeaders(session),
      tooLarge: `The answer is larger than one response can carry (6 MB). ${pagingAdvice(session.SessionId)} A smaller rpp makes smaller pages.`,
    });
  },

  "POST /session/{sid}": async (request) => {
    const jobs = parseJsonBody(request.text, APPEND_EXAMPLE);
    const call = {
      username: request.caller.username,
      sessionId: sessionId(request),
      idempotencyKey: idempotencyKeyOf(request),
      jobs,
    };
    return json(await appendJobsOnce(call, request.context));
  },

  "POST /session/{sid}/start": async (request) =>
    json(await startSession(request.caller.username, sessionId(request))),

  "POST /session/{sid}/stop": async (request) => {
    await stopSession(request.caller.username, sessionId(request));
    return json(sessionId(request));
  },

  "POST /session/{sid}/kill": async (request) => {
    await killSession(request.caller.username, sessionId(request));
    return json(sessionId(request));
  },

  "GET /session/{sid}/summary": async (request) =>
    json(await summarizeSession(request.caller.username, sessionId(request))),

  "GET /session/{sid}/jobs": async (request) =>
    json(
      await listSessionJobPage(request.caller.username, sessionId(request), {
        state: request.query.state,
        limit: request.query.limit,
        after: request.query.after,
      }),
    ),

  // A bare number, the jobs deleted: the turbine client calls int() on the body.
  "DELETE /session/{sid}": async (request) =>
    json(await deleteSession(request.caller.username, sessionId(request))),
};

export const handler = createHttpHandler(routes);
