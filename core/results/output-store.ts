/**
 * @module results/output-store
 * Job outputs too large for an SNS message or a DynamoDB item, in the results bucket at
 * `outputs/<username>/<session>/<job>.json`. Workers write there; readers fetch on demand.
 */
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { s3Client } from "../aws/clients.ts";
import { deletePrefix } from "../aws/s3-prefix.ts";
import { config } from "../config.ts";

export function outputKey(username: string, sessionId: string, jobId: string): string {
  return `outputs/${username}/${sessionId}/${jobId}.json`;
}

export async function putOutput(key: string, outputJson: string): Promise<void> {
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
  const result = await s3Client().send(new GetObjectCommand({ Bucket: config.resultsBucket, Key: key }));
  return (await result.Body?.transformToString("utf8")) ?? "null";
}

export async function deleteSessionOutputs(username: string, sessionId: string): Promise<number> {
  return deletePrefix(config.resultsBucket, `outputs/${username}/${sessionId}/`);
}
