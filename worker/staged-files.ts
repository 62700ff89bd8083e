/**
 * @module staged-files
 * A worker's cache of staged simulation files. A file is downloaded again only when its ETag
 * changed; the listing of a simulation's files is reused for a short while, so a session of
 * many jobs of one simulation costs one listing per minute, not one per job.
 *
 * A new version is downloaded to a temporary file beside the old one and renamed over it, so a
 * job running meanwhile never reads a half-written file: it keeps the complete old one (rename
 * replaces the directory entry; an open file stays as it was).
 */
import { randomUUID } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, paginateListObjectsV2 } from "@aws-sdk/client-s3";
import { s3Client } from "../core/aws/clients.ts";

const LISTING_TTL_MS = 60_000;

export class StagedFiles {
  private readonly listings = new Map<string, { at: number; objects: { key: string; etag: string }[] }>();

  constructor(
    private readonly bucket: string,
    private readonly cacheDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Local paths of the simulation's files, by staged name, fetching what changed. */
  async fetch(username: string, simulation: string): Promise<Record<string, string>> {
    const prefix = `${username}/${simulation}/`;
    const files: Record<string, string> = {};
    for (const object of await this.list(prefix)) {
      const name = object.key.slice(prefix.length);
      const path = join(this.cacheDir, object.key);
      const etagFile = `${path}.etag`;
      if (!existsSync(path) || !existsSync(etagFile) || readFileSync(etagFile, "utf8") !== object.etag) {
        await this.download(object.key, path);
        writeFileSync(etagFile, object.etag);
      }
      files[name] = path;
    }
    return files;
  }

  private async list(prefix: string): Promise<{ key: string; etag: string }[]> {
    const cached = this.listings.get(prefix);
    if (cached && this.now() - cached.at < LISTING_TTL_MS) return cached.objects;
    const objects: { key: string; etag: string }[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3Client() },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const object of page.Contents ?? []) objects.push({ key: object.Key!, etag: object.ETag ?? "" });
    }
    this.listings.set(prefix, { at: this.now(), objects });
    return objects;
  }

  private async download(key: string, path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.${randomUUID()}.part`;
    try {
      const result = await s3Client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      await pipeline(result.Body as Readable, createWriteStream(partial));
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }
}
