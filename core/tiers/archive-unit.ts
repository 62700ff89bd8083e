/**
 * @module tiers/archive-unit
 * The content of one archive object: the outputs of a run of a session's finished jobs, as gzip
 * JSON lines. One object per unit, not per job, because archive storage bills every object an
 * overhead (README, "Result tiers"), and most outputs are a few hundred bytes.
 */
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";

const zip = promisify(gzip);
const unzip = promisify(gunzip);

export interface ArchivedOutput {
  JobId: string;
  Seq: number;
  /** The output as the job item held it (inline), or as its S3 object held it (large). */
  OutputJson?: string;
}

export async function encodeUnit(entries: ArchivedOutput[]): Promise<Buffer> {
  return zip(Buffer.from(entries.map((entry) => JSON.stringify(entry)).join("\n")));
}

export async function decodeUnit(body: Uint8Array): Promise<ArchivedOutput[]> {
  const text = (await unzip(body)).toString("utf8");
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ArchivedOutput);
}

/** Where a unit's object goes: under the user's own prefix, named by its finish-number range. */
export function unitObjectKey(username: string, sessionId: string, first: number, last: number): string {
  return `archives/${username}/${sessionId}/${first}-${last}.jsonl.gz`;
}
