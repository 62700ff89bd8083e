/**
 * @module results/output-store
 * Job outputs too large for an SNS message or a DynamoDB item, in the results bucket at
 * `outputs/<username>/<session>/<job>/<attempt>.json` (workers) or `…/<job>.json` (the
 * processor). Readers fetch on demand. S3 is loaded on first use (aws/s3-client.ts): most
 * outputs are inline.
 */

import { s3Module } from "../aws/client-modules.ts";
import { deletePrefix } from "../aws/s3-prefix.ts";
import { config } from "../config.ts";

/**
 * Where a job's output goes: per attempt when a worker writes it (two runs of one job never
 * write the same object; the processor keeps the winner's key), else the processor's own copy.
 */
export function outputKey(username: string, sessionId: string, jobId: string, attempt?: string): string {
  const job = `outputs/${username}/${sessionId}/${jobId}`;
  return attempt ? `${job}/${attempt}.json` : `${job}.json`;
}

/** Whether `key` is one of the job's own output keys (an event may name no other object). */
export function isOwnOutputKey(key: string, username: string, sessionId: string, jobId: string): boolean {
  const job = `outputs/${username}/${sessionId}/${jobId}`;
  return key === `${job}.json` || (key.startsWith(`${job}/`) && !key.slice(job.length + 1).includes("/"));
}

export async function putOutput(key: string, outputJson: string): Promise<void> {
  const { PutObjectCommand, s3Client } = await s3Module();
  await s3Client().send(
    new PutObjectCommand({
      Bucket: config.resultsBucket,
      Key: key,
      Body: outputJson,
      ContentType: "application/json",
    }),
  );
}

export async function getOutputJson(key: string): Promise<string> {
  const { GetObjectCommand, s3Client } = await s3Module();
  const result = await s3Client().send(new GetObjectCommand({ Bucket: config.resultsBucket, Key: key }));
  return (await result.Body?.transformToString("utf8")) ?? "null";
}

export async function deleteSessionOutputs(username: string, sessionId: string): Promise<number> {
  return deletePrefix(config.resultsBucket, `outputs/${username}/${sessionId}/`);
}

/** Deletes every output object of a user (removing a user sweeps what no session names any more). */
export async function deleteUserOutputs(username: string): Promise<number> {
  return deletePrefix(config.resultsBucket, `outputs/${username}/`);
}
