/**
 * Writes a session whose jobs have all finished, straight into the tables in the shape the
 * update processor leaves them (terminal job items with their finish numbers, the finish-order
 * entries and the counter): running 20,000 jobs through the emulator would take an hour.
 */
import { randomUUID } from "node:crypto";
import { batchWrite } from "../core/aws/dynamo-batch.ts";
import { config } from "../core/config.ts";
import type { JobItem } from "../core/jobs/job.ts";
import { COUNTER_KEY, seqKey } from "../core/results/result-keys.ts";
import { createSession } from "../core/sessions/session-store.ts";
import { makeJobItem } from "../test/helpers/factories.ts";

export async function writeFinishedSession(username: string, jobs: number): Promise<string> {
  const session = await createSession(username);
  const sid = session.SessionId;
  const now = new Date().toISOString();
  const items: JobItem[] = [];
  const entries: Record<string, unknown>[] = [];
  for (let seq = 1; seq <= jobs; seq++) {
    const jobId = randomUUID();
    items.push(
      makeJobItem({
        SessionId: sid,
        JobId: jobId,
        Username: username,
        Simulation: "bench",
        Application: "fake",
        InputJson: JSON.stringify({ x: seq }),
        Reset: false,
        State: "success",
        Create: now,
        Ordinal: `${now}#${String(seq).padStart(6, "0")}`,
        ConsumerId: "bench",
        OutputJson: JSON.stringify({ input: { x: seq }, output: { y: seq * 2 }, graphError: 0 }),
        Seq: seq,
        Fingerprint: "bench",
      }),
    );
    entries.push({ SessionId: sid, Key: seqKey(seq), JobId: jobId });
  }
  await batchWrite(
    config.jobsTable,
    items.map((Item) => ({ PutRequest: { Item } })),
  );
  await batchWrite(config.resultsTable, [
    ...entries.map((Item) => ({ PutRequest: { Item } })),
    { PutRequest: { Item: { SessionId: sid, Key: COUNTER_KEY, Last: jobs } } },
  ]);
  return sid;
}
