/**
 * @module http/result
 * Result pages. POST closes the next page and answers the newest page's number as a bare JSON
 * number (the turbine client calls int() on the body); GET answers a closed page's records in
 * finish order. `rpp` and `page` query parameters that clients send are ignored: a page's size
 * is fixed when it is closed. The two legacy routes older FOQUS releases call are kept.
 */
import { randomUUID } from "node:crypto";
import {
  checkSessionGenerator,
  closeSessionResultPage,
  readSessionResultPage,
} from "../../core/results/session-results.ts";
import { createHttpHandler, type Routes } from "./http-handler.ts";
import { json } from "./respond.ts";

export const routes: Routes = {
  "POST /session/{sid}/result/{gen}": async ({ caller, params }) =>
    json(await closeSessionResultPage(caller.username, params.sid ?? "", params.gen ?? "")),

  "GET /session/{sid}/result/{gen}/{page}": async ({ caller, params }) =>
    json(await readSessionResultPage(caller.username, params.sid ?? "", params.gen ?? "", params.page ?? "")),

  // Legacy: older FOQUS asked for a fresh generator id, then deleted it when done.
  "POST /session/{sid}/result": async ({ caller, params }) => {
    await checkSessionGenerator(caller.username, params.sid ?? "");
    return json(randomUUID());
  },
  "DELETE /session/{sid}/result/{gen}": async ({ caller, params }) => {
    await checkSessionGenerator(caller.username, params.sid ?? "", params.gen ?? "");
    return json(params.gen);
  },
};

export const handler = createHttpHandler(routes);
