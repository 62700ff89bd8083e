/**
 * @module http/job
 * The turbine client's `[Job]` URL: one job by its id (`turbine_job_script -j ID`, FOQUS
 * desktop's per-node Turbine runs), terminating one job, and the jobs of a session filtered as
 * `turbine_job_script -s SID [-x STATE] [-n SIM] [-c CONSUMER]` asks.
 */
import { ValidationError } from "../../core/errors.ts";
import { getJobRecordById, terminateJobById } from "../../core/jobs/job-by-id.ts";
import { listSessionJobRecords } from "../../core/sessions/session-listing.ts";
import { createHttpHandler, type Routes } from "./http-handler.ts";
import { json } from "./respond.ts";

export const routes: Routes = {
  "GET /job": async ({ caller, query }) => {
    if (!query.session) {
      throw new ValidationError(
        "GET /job lists the jobs of one session: add ?session=<session id> (optionally &state=, &simulation=, &consumer=).",
        "session",
      );
    }
    const { jobs } = await listSessionJobRecords(caller.username, query.session);
    return json(
      jobs.filter(
        (job) =>
          (!query.state || job.State === query.state) &&
          (!query.simulation || job.Simulation === query.simulation) &&
          (!query.consumer || job.ConsumerId === query.consumer),
      ),
    );
  },

  "GET /job/{id}": async ({ caller, params }) =>
    json(await getJobRecordById(caller.username, params.id ?? "")),

  "POST /job/{id}/terminate": async ({ caller, params }) =>
    json(await terminateJobById(caller.username, params.id ?? "")),
};

export const handler = createHttpHandler(routes);
