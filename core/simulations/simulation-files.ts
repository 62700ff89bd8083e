/**
 * @module simulations/simulation-files
 * Staged simulation files in the simulations bucket, at `<username>/<simulation>/<path>`, so a
 * user's files never share a prefix with another user's. S3 and the presigner are loaded on
 * first use (aws/s3-client.ts): the simulation function's other routes never need them.
 */

import { s3Module } from "../aws/client-modules.ts";
import { deletePrefix } from "../aws/s3-prefix.ts";
import { config } from "../config.ts";
import { NotFoundError } from "../errors.ts";
import { PRESIGNED_URL_SECONDS } from "../limits.ts";

export function inputKey(username: string, simulation: string, path: string): string {
  return `${username}/${simulation}/${path}`;
}

export async function putInputFile(
  username: string,
  simulation: string,
  path: string,
  body: Uint8Array,
  contentType = "application/octet-stream",
): Promise<void> {
  const { PutObjectCommand, s3Client } = await s3Module();
  await s3Client().send(
    new PutObjectCommand({
      Bucket: config.simulationsBucket,
      Key: inputKey(username, simulation, path),
      Body: body,
      ContentType: contentType,
    }),
  );
}

export async function getInputFile(
  username: string,
  simulation: string,
  path: string,
): Promise<{ body: Uint8Array; contentType: string }> {
  const { GetObjectCommand, NoSuchKey, s3Client } = await s3Module();
  try {
    const result = await s3Client().send(
      new GetObjectCommand({ Bucket: config.simulationsBucket, Key: inputKey(username, simulation, path) }),
    );
    const body = await result.Body?.transformToByteArray();
    return { body: body ?? new Uint8Array(), contentType: result.ContentType ?? "application/octet-stream" };
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") {
      throw new NotFoundError(
        "InputNotFound",
        `Simulation "${simulation}" has no uploaded file "${path}"; upload it with PUT /simulation/${simulation}/input/${path}.`,
      );
    }
    throw error;
  }
}

/** A presigned URL for one object operation. Never log it: it is a bearer credential. */
export async function presignInputUrl(
  username: string,
  simulation: string,
  path: string,
  operation: "putObject" | "getObject",
): Promise<string> {
  const [{ GetObjectCommand, PutObjectCommand, s3Client }, { getSignedUrl }] = await Promise.all([
    s3Module(),
    import("@aws-sdk/s3-request-presigner"),
  ]);
  const target = { Bucket: config.simulationsBucket, Key: inputKey(username, simulation, path) };
  // No ContentType in the signature: an upload with any Content-Type (or none) is accepted.
  const command = operation === "putObject" ? new PutObjectCommand(target) : new GetObjectCommand(target);
  return getSignedUrl(s3Client(), command, { expiresIn: PRESIGNED_URL_SECONDS });
}

/** Deletes every staged file of a simulation. */
export async function deleteInputFiles(username: string, simulation: string): Promise<number> {
  return deletePrefix(config.simulationsBucket, `${username}/${simulation}/`);
}

/** Deletes every staged file of a user, also files of simulations no record names any more. */
export async function deleteUserInputFiles(username: string): Promise<number> {
  return deletePrefix(config.simulationsBucket, `${username}/`);
}
