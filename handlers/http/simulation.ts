/**
 * @module http/simulation
 * Simulations and their staged input files. Small files go straight through the API; files up
 * to 5 GB go through presigned S3 URLs (`?method=putObject|getObject`, or `?SignedUrl=True` on
 * PUT), answered with 302 so the client talks to S3 directly.
 */
import { ValidationError } from "../../core/errors.ts";
import { assertValidInputPath, assertValidSimulationName } from "../../core/simulations/simulation.ts";
import {
  deleteSimulation,
  listUserSimulations,
  presignInputFile,
  readInputFile,
  saveSimulation,
  showSimulation,
  uploadInputFile,
} from "../../core/simulations/simulation-actions.ts";
import { parseJsonBody, validate } from "../../core/validation.ts";
import * as z from "../../core/zod.ts";
import { createHttpHandler, type HttpRequest, type Routes } from "./http-handler.ts";
import { bytes, json, redirect } from "./respond.ts";

const SimulationSchema = z.object({
  Application: z
    .string({ error: "Application is required, e.g. foqus (GET /application lists them)" })
    .check(z.minLength(1)),
  Name: z.optional(z.string()),
  StagedInputs: z.optional(z.array(z.unknown())),
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
  "GET /simulation": async ({ caller }) => json(await listUserSimulations(caller.username)),

  "GET /simulation/{name}": async (request) =>
    json(await showSimulation(request.caller.username, nameOf(request))),

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
    return json(await saveSimulation(request.caller.username, name, body.Application));
  },

  "DELETE /simulation/{name}": async (request) =>
    json(await deleteSimulation(request.caller.username, nameOf(request))),

  "PUT /simulation/{name}/input/{path+}": async (request) => {
    const name = nameOf(request);
    const path = inputPathOf(request);
    const username = request.caller.username;
    // The turbine client's SignedUrl=True flow: an empty PUT asks for a presigned upload URL.
    // Content-Type is left unsigned: the turbine client PUTs with an empty one, others send JSON.
    if (isTrue(request.query.SignedUrl) && (request.body?.length ?? 0) === 0)
      return redirect(await presignInputFile(username, name, path, "putObject"));
    const body = request.body ?? Buffer.alloc(0);
    return json(await uploadInputFile(username, name, path, body, request.headers["content-type"]));
  },

  "GET /simulation/{name}/input/{path+}": async (request) => {
    const file = await readInputFile(request.caller.username, nameOf(request), inputPathOf(request));
    return bytes(file.body, file.contentType);
  },

  "POST /simulation/{name}/input/{path+}": async (request) => {
    const name = nameOf(request);
    const path = inputPathOf(request);
    const method = presignMethodOf(request);
    return redirect(await presignInputFile(request.caller.username, name, path, method));
  },
};

export const handler = createHttpHandler(routes);
