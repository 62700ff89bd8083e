/**
 * @module simulations/simulation-actions
 * What the API does to a simulation, one function per route: each checks that the caller owns
 * the simulation, then touches the table (simulation-store.ts) and the staged files
 * (simulation-files.ts) in the order that leaves nothing half-done behind. A foqus simulation's
 * configuration is checked to be a FOQUS session before it is stored (foqus-session.ts).
 */
import { resolveApplication } from "../applications.ts";
import { PayloadTooLargeError } from "../errors.ts";
import { MAX_DIRECT_INPUT_BYTES } from "../limits.ts";
import { assertFoqusSession, assertNotPresignedFoqusSession, FOQUS_CONFIGURATION } from "./foqus-session.ts";
import type { Simulation } from "./simulation.ts";
import { deleteInputFiles, getInputFile, presignInputUrl, putInputFile } from "./simulation-files.ts";
import {
  addStagedInput,
  deleteSimulationRecord,
  getSimulation,
  listSimulations,
  putSimulation,
  recordToSimulation,
} from "./simulation-store.ts";

export async function listUserSimulations(username: string): Promise<Simulation[]> {
  return (await listSimulations(username)).map(recordToSimulation);
}

export async function showSimulation(username: string, name: string): Promise<Simulation> {
  return recordToSimulation(await getSimulation(username, name));
}

/** Creates the simulation, or changes its application keeping its staged inputs. */
export async function saveSimulation(
  username: string,
  name: string,
  application: string,
): Promise<Simulation> {
  const resolved = resolveApplication(application, "Application");
  return recordToSimulation(await putSimulation(username, name, resolved));
}

/** Deletes the staged files, then the record: a delete that fails half-way can be repeated. */
export async function deleteSimulation(username: string, name: string): Promise<Simulation> {
  const record = await getSimulation(username, name);
  await deleteInputFiles(username, name);
  await deleteSimulationRecord(username, name);
  return recordToSimulation(record);
}

/** Stores a staged file sent through the API, then records it as staged. */
export async function uploadInputFile(
  username: string,
  name: string,
  path: string,
  body: Uint8Array,
  contentType: string | undefined,
): Promise<Simulation> {
  const simulation = await getSimulation(username, name);
  if (body.length > MAX_DIRECT_INPUT_BYTES) {
    throw new PayloadTooLargeError(
      `This file is ${body.length} bytes; a direct upload takes at most ${MAX_DIRECT_INPUT_BYTES}. Upload larger files (up to 5 GB) through a presigned URL: POST /simulation/${name}/input/${path}?method=putObject.`,
    );
  }
  if (simulation.Application === "foqus" && path === FOQUS_CONFIGURATION) assertFoqusSession(body);
  await putInputFile(username, name, path, body, contentType);
  return recordToSimulation(await addStagedInput(username, name, path));
}

/**
 * A presigned S3 URL for a staged file. An upload is recorded as staged now: S3 tells us nothing
 * when it completes.
 */
export async function presignInputFile(
  username: string,
  name: string,
  path: string,
  method: "putObject" | "getObject",
): Promise<string> {
  const simulation = await getSimulation(username, name);
  if (method === "putObject") {
    assertNotPresignedFoqusSession(simulation.Application, path);
    await addStagedInput(username, name, path);
  }
  return presignInputUrl(username, name, path, method);
}

export async function readInputFile(
  username: string,
  name: string,
  path: string,
): Promise<{ body: Uint8Array; contentType: string }> {
  await getSimulation(username, name);
  return getInputFile(username, name, path);
}
