/**
 * @module simulations/foqus-session
 * What a `foqus` simulation's `configuration` must be: a FOQUS session file, recognised by its
 * content as upstream did (JSON with `"Type": "FOQUS_Session"` or `"filetype": "FOQUS_Session"`).
 * It is checked when it is uploaded, so no job can fail later because of it.
 */
import { ValidationError } from "../errors.ts";

/** The staged input of a `foqus` simulation that holds its flowsheet. */
export const FOQUS_CONFIGURATION = "configuration";

const HOW =
  "upload the flowsheet's session file as FOQUS saves it (File → Save Session), e.g. PUT /simulation/{name}/input/configuration with the .foqus file as the body";

/** Throws a 400 unless `body` is a FOQUS session file. */
export function assertFoqusSession(body: Uint8Array): void {
  let session: unknown;
  try {
    session = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch (error) {
    throw new ValidationError(
      `The configuration of a foqus simulation must be a FOQUS session file, but this is not JSON (${(error as Error).message}); ${HOW}.`,
      "body",
      "NotAFoqusSession",
    );
  }
  const marker =
    typeof session === "object" && session !== null
      ? ((session as Record<string, unknown>).Type ?? (session as Record<string, unknown>).filetype)
      : undefined;
  if (marker !== "FOQUS_Session") {
    throw new ValidationError(
      `The configuration of a foqus simulation must be a FOQUS session file ("Type": "FOQUS_Session"), but this JSON is not one; ${HOW}.`,
      "body",
      "NotAFoqusSession",
    );
  }
}

/** Throws a 400 for a presigned upload of a foqus configuration: its content could not be checked. */
export function assertNotPresignedFoqusSession(application: string, path: string): void {
  if (application === "foqus" && path === FOQUS_CONFIGURATION) {
    throw new ValidationError(
      `A foqus simulation's configuration is checked when it is uploaded, so it cannot go through a presigned URL; ${HOW} (session files are small).`,
      "path",
      "PresignedConfigurationRefused",
    );
  }
}
