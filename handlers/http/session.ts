/** @module http/session — sessions and their jobs: create, list, append, start, stop, kill, delete. */
import { ValidationError } from "../../core/errors.ts";
import { appendJobs } from "../../core/jobs/append-jobs.ts";
import { jobItemToRecord } from "../../core/jobs/job.ts";
import { listSessionJobs } from "../../core/jobs/job-store.ts";
import {
  deleteSession,
  killSession,
  startSession,
  stopSession,
} from "../../core/sessions/session-control.ts";
import { createSession, getSession, listSessionIds } from "../../core/sessions/session-store.ts";
import { parseJsonBody } from "../../core/validation.ts";
import { createHttpHandler, type HttpRequest, type Routes } from "./http-handler.ts";
import { appendWithIdempotencyKey } from "./idempotent-append.ts";
import { json } from "./respond.ts";

const APPEND_EXAMPLE = '[{"Simulation":"my-sim","Input":{"x":1}}]';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

function sessionId({ params }: HttpRequest): string {
  return params.sid ?? "";
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

  "GET /session/{sid}": async (request) => {
    await getSession(request.caller.username, sessionId(request));
    const jobs = await listSessionJobs(sessionId(request));
    jobs.sort((a, b) => (a.Ordinal < b.Ordinal ? -1 : a.Ordinal > b.Ordinal ? 1 : 0));
    // Outputs kept in S3 are left out here (null): result pages carry them in full.
    return json(jobs.map((job) => jobItemToRecord(job)));
  },

  "POST /session/{sid}": async (request) => {
    const body = parseJsonBody(request.text, APPEND_EXAMPLE);
    const key = idempotencyKeyOf(request);
    const ids = key
      ? await appendWithIdempotencyKey(
          {
            username: request.caller.username,
            sessionId: sessionId(request),
            idempotencyKey: key,
            jobs: body,
          },
          request.context,
        )
      : await appendJobs(request.caller.username, sessionId(request), body);
    return json(ids);
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

  "DELETE /session/{sid}": async (request) => {
    await deleteSession(request.caller.username, sessionId(request));
    return json(sessionId(request));
  },
};

export const handler = createHttpHandler(routes);
