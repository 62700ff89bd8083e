/**
 * @module tiers/restore-results
 * Getting a user's archived results back after an upgrade, in two steps that each converge when
 * repeated:
 *
 * 1. restoreUserResults (a restore request, queued by the plan change): the user's pending
 *    archive requests are withdrawn, and every archived unit, found by a Query of the user's
 *    items, is asked back from archive storage (RestoreObject: Expedited, Standard when S3 has
 *    no Expedited capacity; a restore already in progress counts as asked).
 * 2. completeRestore (S3's s3:ObjectRestore:Completed notification for the unit's object): the
 *    unit's outputs go back into the job items, the hot store, and the archive object is
 *    deleted. Re-hydrating rather than copying the object back to STANDARD: the result pages,
 *    GET /job and the console then read as they always do, one item per job, at O(page) cost,
 *    instead of every read of a page unpacking a whole unit. A notification delivered twice, or
 *    a run that crashed between putting outputs back and marking the unit restored, does the
 *    same again and changes nothing: every job write is conditional on the job still being
 *    archived in this unit, and the object is deleted last.
 */

import { s3Module, sqsModule } from "../aws/client-modules.ts";
import { mapLimit } from "../concurrency.ts";
import { config } from "../config.ts";
import { restoreJobOutput } from "../jobs/job-store.ts";
import { MAX_INLINE_OUTPUT_BYTES } from "../limits.ts";
import { outputKey, putOutput } from "../results/output-store.ts";
import { removeArchivedRange } from "../results/result-store.ts";
import {
  type ArchiveUnit,
  deletePending,
  getUnit,
  listPending,
  listUnits,
  setUnitState,
  UnitStates,
  unitIdOf,
  unitKey,
} from "./archive-store.ts";
import { decodeUnit } from "./archive-unit.ts";
import { delayedRequests } from "./delayed-requests.ts";

/** What the restore queue carries besides S3's notifications. */
export interface RestoreRequest {
  kind: "restore";
  username: string;
}

const WRITE_CONCURRENCY = 8;

/** Queues the restore of every archived result of `username` (after an upgrade). */
export async function requestRestore(username: string): Promise<void> {
  const request: RestoreRequest = { kind: "restore", username };
  const { SendMessageCommand, sqsClient } = await sqsModule();
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: config.restoreQueueUrl, MessageBody: JSON.stringify(request) }),
  );
}

export type RestoreTier = "Expedited" | "Standard";

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined; // S3ServiceException is an Error
}

/**
 * Asks S3 to restore one archived object: Expedited first (minutes), Standard when S3 has no
 * Expedited capacity (hours), Standard straight away for DEEP_ARCHIVE, which has no Expedited.
 * Answers the tier that was accepted; a restore already in progress counts as accepted.
 */
export async function restoreArchivedObject(key: string): Promise<RestoreTier> {
  const tiers: RestoreTier[] =
    config.archiveStorageClass === "DEEP_ARCHIVE" ? ["Standard"] : ["Expedited", "Standard"];
  const { RestoreObjectCommand, s3Client } = await s3Module();
  for (const [i, tier] of tiers.entries()) {
    try {
      await s3Client().send(
        new RestoreObjectCommand({
          Bucket: config.resultsBucket,
          Key: key,
          RestoreRequest: { Days: config.restoreDays, GlacierJobParameters: { Tier: tier } },
        }),
      );
      return tier;
    } catch (error) {
      const name = errorName(error);
      if (name === "RestoreAlreadyInProgress") return tier;
      if (name === "GlacierExpeditedRetrievalNotAvailable" && i < tiers.length - 1) continue;
      throw error;
    }
  }
  throw new Error("unreachable: the last tier either succeeds or throws");
}

export interface RestoreReport {
  units: number;
  withdrawn: number;
  tiers: Partial<Record<RestoreTier, number>>;
}

export async function restoreUserResults(username: string, now = new Date()): Promise<RestoreReport> {
  // Archive requests still to come would find the plan premium and do nothing; withdrawing the
  // scheduled ones saves their invocations, and removing the records keeps a later downgrade
  // from archiving, retroactively, what finished while the user was premium.
  const pending = await listPending(username);
  for (const request of pending) {
    if (request.Schedule) await delayedRequests.cancel(request.Schedule);
    await deletePending(username, request.SessionId);
  }
  const units = [
    ...(await listUnits(username, { state: UnitStates.archived })),
    ...(await listUnits(username, { state: UnitStates.restoring })),
  ];
  const tiers: Partial<Record<RestoreTier, number>> = {};
  await mapLimit(units, WRITE_CONCURRENCY, async (unit) => {
    const tier = await restoreArchivedObject(unit.ObjectKey);
    tiers[tier] = (tiers[tier] ?? 0) + 1;
    await setUnitState(unit, UnitStates.archived, UnitStates.restoring, {
      RestoreTier: tier,
      RestoreRequested: now.toISOString(),
    });
    // The restore's status, as S3 reports it. (moto also completes the restore, and sends its
    // notification, on this first read of the object's status: see docs/result-tiers.md.)
    const { HeadObjectCommand, s3Client } = await s3Module();
    await s3Client().send(new HeadObjectCommand({ Bucket: config.resultsBucket, Key: unit.ObjectKey }));
  });
  return { units: units.length, withdrawn: pending.length, tiers };
}

/** archives/<user>/<session>/<first>-<last>.jsonl.gz → the unit's owner, key and range. */
export function parseUnitObjectKey(
  key: string,
): { username: string; sessionId: string; first: number; last: number } | undefined {
  const match = /^archives\/([^/]+)\/([^/]+)\/([0-9]+)-([0-9]+)\.jsonl\.gz$/.exec(key);
  if (!match) return undefined;
  const [, username, sessionId, first, last] = match as unknown as [string, string, string, string, string];
  return { username, sessionId, first: Number(first), last: Number(last) };
}

export type CompleteOutcome = "restored" | "already-restored" | "unknown-object";

/** The restored copy of `objectKey` is readable: its outputs go back to their jobs. */
export async function completeRestore(objectKey: string, now = new Date()): Promise<CompleteOutcome> {
  const parsed = parseUnitObjectKey(objectKey);
  if (!parsed) return "unknown-object";
  const unit = await getUnit(parsed.username, unitKey(parsed.sessionId, parsed.first));
  if (!unit || unit.ObjectKey !== objectKey) return "unknown-object";
  if (unit.State === UnitStates.restored) return "already-restored";
  await putOutputsBack(unit);
  await removeArchivedRange(unit.SessionId, unit.First);
  await setUnitState(unit, unit.State, UnitStates.restored, { Restored: now.toISOString() });
  // Last: until here a rerun can read the object again.
  const { DeleteObjectCommand, s3Client } = await s3Module();
  await s3Client().send(new DeleteObjectCommand({ Bucket: config.resultsBucket, Key: unit.ObjectKey }));
  return "restored";
}

async function putOutputsBack(unit: ArchiveUnit): Promise<void> {
  const { GetObjectCommand, s3Client } = await s3Module();
  const object = await s3Client().send(
    new GetObjectCommand({ Bucket: config.resultsBucket, Key: unit.ObjectKey }),
  );
  const entries = await decodeUnit(await object.Body!.transformToByteArray());
  const unitId = unitIdOf(unit);
  await mapLimit(entries, WRITE_CONCURRENCY, async (entry) => {
    if (entry.OutputJson === undefined) {
      await restoreJobOutput(unit.SessionId, entry.JobId, unitId, {});
    } else if (Buffer.byteLength(entry.OutputJson) > MAX_INLINE_OUTPUT_BYTES) {
      // Too large for the item, as before it was archived: back to its own object.
      const key = outputKey(unit.Username, unit.SessionId, entry.JobId);
      await putOutput(key, entry.OutputJson);
      await restoreJobOutput(unit.SessionId, entry.JobId, unitId, { OutputKey: key });
    } else {
      await restoreJobOutput(unit.SessionId, entry.JobId, unitId, { OutputJson: entry.OutputJson });
    }
  });
}
