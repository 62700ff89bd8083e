/**
 * @module http/simulation
 * Simulations and their staged input files. Small files go straight through the API; files up
 * to 5 GB go through presigned S3 URLs (`?method=putObject|getObject`, or `?SignedUrl=True` on
 * PUT), answered with 302 so the client talks to S3 directly.
 */
import * as z from "zod";
import { resolveApplication } from "../../core/applications.ts";
import { PayloadTooLargeError, ValidationError } from "../../core/errors.ts";
import { MAX_DIRECT_INPUT_BYTES } from "../../core/limits.ts";
import { assertValidInputPath, assertValidSimulationName } from "../../core/simulations/simulation.ts";
import {
  deleteInputFiles,
  getInputFile,
  presignInputUrl,
  putInputFile,
} from "../../core/simulations/simulation-files.ts";
import {
  addStagedInput,
  deleteSimulationRecord,
  getSimulation,
  listSimulations,
  putSimulation,
  recordToSimulation,
} from "../../core/simulations/simulation-store.ts";
import { parseJsonBody, validate } from "../../core/validation.ts";
import { createHttpHandler, type HttpRequest, type Routes } from "./http-handler.ts";
import { bytes, json, redirect } from "./respond.ts";

const SimulationSchema = z.object({
  Application: z
    .string({ error: "Application is required, e.g. foqus (GET /application lists them)" })
    .min(1),
  Name: z.string().optional(),
  StagedInputs: z.array(z.unknown()).optional(),
});

function nameOf({ params }: HttpRequest): string {
  const name = params.name ?? "";
  assertValidSimulationName(name);
  return name;
}

function inputPathOf({ params }: HttpRequest): string {
  const path = params.path ?? "";
  assertValidInputPath(path);
  return path;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase() === "true";
}

function presignMethodOf(request: HttpRequest): "putObject" | "getObject" {
  const method = request.query.method;
  if (method !== "putObject" && method !== "getObject") {
    throw new ValidationError(
      `Query parameter method must be putObject or getObject (got ${method === undefined ? "none" : `"${method}"`}).`,
      "method",
    );
  }
  return method;
}

export const routes: Routes = {
  "GET /simulation": async ({ caller }) =>
    json((await listSimulations(caller.username)).map(recordToSimulation)),

  "GET /simulation/{name}": async (request) =>
    json(recordToSimulation(await getSimulation(request.caller.username, nameOf(request)))),

  "PUT /simulation/{name}": async (request) => {
    const name = nameOf(request);
    const body = validate(
      SimulationSchema,
      parseJsonBody(request.text, `{"Application":"foqus","StagedInputs":[],"Name":"${name}"}`),
      "simulation",
    );
    if (body.Name !== undefined && body.Name !== name) {
      throw new ValidationError(
        `Name "${body.Name}" differs from the name in the path ("${name}"); make them equal.`,
        "Name",
      );
    }
    const application = resolveApplication(body.Application, "Application");
    return json(recordToSimulation(await putSimulation(request.caller.username, name, application)));
  },

  "DELETE /simulation/{name}": async (request) => {
    const name = nameOf(request);
    const record = await getSimulation(request.caller.username, name);
    await deleteInputFiles(request.caller.username, name);
    await deleteSimulationRecord(request.caller.username, name);
    return json(recordToSimulation(record));
  },

  "PUT /simulation/{name}/input/{path+}": async (request) => {
    const name = nameOf(request);
    const path = inputPathOf(request);
    const username = request.caller.username;
    await getSimulation(username, name);
    if (isTrue(request.query.SignedUrl) && (request.body?.length ?? 0) === 0) {
      await addStagedInput(username, name, path);
      // Content-Type is left unsigned: the turbine client PUTs with an empty one, others send JSON.
      return redirect(await presignInputUrl(username, name, path, "putObject"));
    }
    const body = request.body ?? Buffer.alloc(0);
    if (body.length > MAX_DIRECT_INPUT_BYTES) {
      throw new PayloadTooLargeError(
        `This file is ${body.length} bytes; a direct upload takes at most ${MAX_DIRECT_INPUT_BYTES}. Upload larger files (up to 5 GB) through a presigned URL: POST /simulation/${name}/input/${path}?method=putObject.`,
      );
    }
    await putInputFile(username, name, path, body, request.headers["content-type"]);
    return json(recordToSimulation(await addStagedInput(username, name, path)));
  },

  "GET /simulation/{name}/input/{path+}": async (request) => {
    const name = nameOf(request);
    const path = inputPathOf(request);
    await getSimulation(request.caller.username, name);
    const file = await getInputFile(request.caller.username, name, path);
    return bytes(file.body, file.contentType);
  },

  "POST /simulation/{name}/input/{path+}": async (request) => {
    const name = nameOf(request);
    const path = inputPathOf(request);
    const method = presignMethodOf(request);
    const username = request.caller.username;
    await getSimulation(username, name);
    // A presigned upload is recorded as staged now: S3 tells us nothing when it completes.
    if (method === "putObject") await addStagedInput(username, name, path);
    return redirect(await presignInputUrl(username, name, path, method));
  },
};

export const handler = createHttpHandler(routes);
