/** @module http/application — GET /application: the applications some worker pool runs. */
import { listApplications } from "../../core/applications.ts";
import { createHttpHandler, type Routes } from "./http-handler.ts";
import { json } from "./respond.ts";

export const routes: Routes = {
  "GET /application": async () => json(listApplications()),
};

export const handler = createHttpHandler(routes);
