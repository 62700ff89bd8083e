/**
 * @module jobs/job-transitions
 * The conditional writes that move jobs between the states the API controls: create/pause →
 * submit (start) and submit → pause (stop). Each is one UpdateItem fenced by the exact state it
 * leaves, so a concurrent or retried start can never submit a job twice: only the caller whose
 * write succeeded publishes the job. Every state after submit is written by the update
 * processor alone (core/jobs/apply-event.ts).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentDbClient } from "../aws/clients.ts";
import { config } from "../config.ts";
import type { JobState } from "./states.ts";

/**
 * Moves one job from `from` to `to`, stamping `timestampField` (e.g. Submit) with `now`.
 * Returns false when the job was not in `from` (somebody else moved it first).
 */
export async function moveJob(
  sessionId: string,
  jobId: string,
  from: JobState,
  to: JobState,
  stamp?: { field: "Submit"; value: string },
): Promise<boolean> {
  try {
    await documentDbClient().send(
      new UpdateCommand({
        TableName: config.jobsTable,
        Key: { SessionId: sessionId, JobId: jobId },
        UpdateExpression: stamp ? "SET #state = :to, #stamp = :now" : "SET #state = :to",
        ConditionExpression: "#state = :from",
        ExpressionAttributeNames: { "#state": "State", ...(stamp ? { "#stamp": stamp.field } : {}) },
        ExpressionAttributeValues: { ":from": from, ":to": to, ...(stamp ? { ":now": stamp.value } : {}) },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
