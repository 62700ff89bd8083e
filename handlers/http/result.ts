/**
 * @module http/result
 * Result pages. POST closes the next page and answers the newest page's number as a bare JSON
 * number (the turbine client calls int() on the body); GET answers a closed page's records in
 * finish order. `rpp` and `page` query parameters that clients send are ignored: a page's size
 * is fixed when it is closed. The two legacy routes older FOQUS releases call are kept.
 */
import { randomUUID } from "node:crypto";
import { NotFoundError } from "../../core/errors.ts";
import { jobItemsToFullRecords } from "../../core/results/job-records.ts";
import {
  assertValidGenerator,
  closeResultPage,
  markPageRead,
  readResultPage,
} from "../../core/results/result-store.ts";
import { getSession } from "../../core/sessions/session-store.ts";
import { createHttpHandler, type HttpRequest, type Routes } from "./http-handler.ts";
import { json } from "./respond.ts";

function pageNumber(raw: string | undefined): number {
  const page = Number(raw);
  if (!Number.isInteger(page) || page < 1) {
    throw new NotFoundError(
      "PageNotFound",
      `Result page "${raw}" does not exist: pages are numbered from 1.`,
    );
  }
  return page;
}

function generatorOf({ params }: HttpRequest): string {
  const gen = params.gen ?? "";
  assertValidGenerator(gen);
  return gen;
}

export const routes: Routes = {
  "POST /session/{sid}/result/{gen}": async (request) => {
    const gen = generatorOf(request);
    const session = await getSession(request.caller.username, request.params.sid ?? "");
    return json(await closeResultPage(session.SessionId, gen));
  },

  "GET /session/{sid}/result/{gen}/{page}": async (request) => {
    const gen = generatorOf(request);
    const session = await getSession(request.caller.username, request.params.sid ?? "");
    const page = pageNumber(request.params.page);
    const records = await jobItemsToFullRecords(await readResultPage(session.SessionId, gen, page));
    await markPageRead(session.SessionId, gen, page);
    return json(records);
  },

  // Legacy: older FOQUS asked for a fresh generator id, then deleted it when done.
  "POST /session/{sid}/result": async (request) => {
    await getSession(request.caller.username, request.params.sid ?? "");
    return json(randomUUID());
  },
  "DELETE /session/{sid}/result/{gen}": async (request) => {
    const gen = generatorOf(request);
    await getSession(request.caller.username, request.params.sid ?? "");
    return json(gen);
  },
};

export const handler = createHttpHandler(routes);
