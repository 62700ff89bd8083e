/**
 * @module staged-files
 * A worker's cache of staged simulation files. A file is downloaded again only when its ETag
 * changed; the listing of a simulation's files is reused for a short while, and shared by the jobs that ask
 * for it at once, so a session of many jobs of one simulation costs one listing per minute, not
 * one per job.
 *
 * Safe with jobs running side by side, in this worker or in another one sharing the directory:
 * - A new version is downloaded to a temporary file of its own beside the old one and renamed
 *   over it, so no file is ever written in place: a job that has the old file open keeps the
 *   complete old one (rename replaces the directory entry, not the file), and nobody ever sees
 *   a half-written one. Jobs of this worker that need the same file at once share one download;
 *   two workers sharing the directory each write their own temporary file, and both are complete.
 * - The ETag recorded beside a file is the one of the object the download actually got (from
 *   GetObject, not from the listing, which may be older), written the same way (temporary file,
 *   rename), so a cached file is never taken for a version it is not.
 *
 * Cache paths keep users, simulations and files apart on every file system: each segment of the
 * object key is encoded (`cacheSegment`) into lower-case letters, digits and `_ - . ^ ~` only,
 * injectively, so two names that differ only in case ("Alice" and "alice") get directories that
 * differ on case-insensitive file systems too (macOS, Windows), and no name can climb out of the
 * cache ("..") or hit a Windows device name ("CON"). The ETag and temporary files end in `~e…`
 * and `~p…`, which no encoded name does.
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
import { s3Client } from "../core/aws/s3-client.ts";

const LISTING_TTL_MS = 60_000;

/** Where staged files come from: the simulations bucket (S3) unless a test gives another. */
export interface StagedObjects {
  list(prefix: string): Promise<{ key: string; etag: string }[]>;
  get(key: string): Promise<{ body: Readable; etag: string }>;
}

function s3Objects(bucket: string): StagedObjects {
  return {
    async list(prefix) {
      const objects: { key: string; etag: string }[] = [];
      for await (const page of paginateListObjectsV2(
        { client: s3Client() },
        { Bucket: bucket, Prefix: prefix },
      )) {
        for (const object of page.Contents ?? []) objects.push({ key: object.Key!, etag: object.ETag ?? "" });
      }
      return objects;
    },
    async get(key) {
      const result = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { body: result.Body as Readable, etag: result.ETag ?? "" };
    },
  };
}

/** Windows device names, reserved in any case and with any extension. */
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/**
 * One segment of an object key as a cache path segment: `a-z 0-9 _ -` stay; an upper-case
 * letter becomes `^` and its lower case; a `.` stays unless it starts or ends the segment; every
 * other byte of its UTF-8 becomes `~` and two lower-case hex digits. A Windows device name gets
 * a `~` after its stem, an empty segment is `~`. The result holds no upper-case letter and is
 * decodable, so distinct names stay distinct when a file system folds case.
 */
export function cacheSegment(segment: string): string {
  if (segment === "") return "~";
  let out = "";
  const chars = [...segment];
  chars.forEach((char, i) => {
    if (/^[a-z0-9_-]$/.test(char)) out += char;
    else if (/^[A-Z]$/.test(char)) out += `^${char.toLowerCase()}`;
    else if (char === "." && i > 0 && i < chars.length - 1) out += char;
    else for (const byte of Buffer.from(char, "utf8")) out += `~${byte.toString(16).padStart(2, "0")}`;
  });
  const dot = out.indexOf(".");
  const stem = dot === -1 ? out : out.slice(0, dot);
  return DEVICE_NAME.test(stem) ? `${stem}~${out.slice(stem.length)}` : out;
}

/** Writes `content` to `path` through a temporary file and a rename: never a partial file. */
function writeAtomically(path: string, content: string): void {
  const partial = `${path}~p${randomUUID()}`;
  try {
    writeFileSync(partial, content);
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
}

export class StagedFiles {
  private readonly listings = new Map<string, { at: number; objects: { key: string; etag: string }[] }>();
  private readonly objects: StagedObjects;
  /** Listings under way, by prefix: jobs that list the same simulation at once share one. */
  private readonly listingsUnderWay = new Map<string, Promise<{ key: string; etag: string }[]>>();
  /** Downloads under way, by cache path: jobs that need the same file at once share one. */
  private readonly downloads = new Map<string, Promise<void>>();

  constructor(
    bucket: string,
    private readonly cacheDir: string,
    private readonly now: () => number = Date.now,
    objects?: StagedObjects,
  ) {
    this.objects = objects ?? s3Objects(bucket);
  }

  /** The cache path of an object key. */
  pathOf(key: string): string {
    return join(this.cacheDir, ...key.split("/").map(cacheSegment));
  }

  /** Local paths of the simulation's files, by staged name, fetching what changed. */
  async fetch(username: string, simulation: string): Promise<Record<string, string>> {
    const prefix = `${username}/${simulation}/`;
    const files: Record<string, string> = {};
    for (const object of await this.list(prefix)) {
      const name = object.key.slice(prefix.length);
      const path = this.pathOf(object.key);
      const etagFile = `${path}~etag`;
      const current = () =>
        existsSync(path) && existsSync(etagFile) && readFileSync(etagFile, "utf8") === object.etag;
      while (!current()) {
        const under = this.downloads.get(path);
        if (under) {
          // Another job's download of this file: look again once it is done (it may have got
          // another version than this listing shows).
          await under.catch(() => undefined);
          continue;
        }
        const download = this.download(object.key, path, etagFile).finally(() => this.downloads.delete(path));
        this.downloads.set(path, download);
        await download;
        break;
      }
      files[name] = path;
    }
    return files;
  }

  private list(prefix: string): Promise<{ key: string; etag: string }[]> {
    const cached = this.listings.get(prefix);
    if (cached && this.now() - cached.at < LISTING_TTL_MS) return Promise.resolve(cached.objects);
    // Jobs of one simulation that start together (a fresh worker fills every slot at once)
    // share one listing, as they share a download.
    let listing = this.listingsUnderWay.get(prefix);
    if (!listing) {
      listing = this.objects
        .list(prefix)
        .then((objects) => {
          this.listings.set(prefix, { at: this.now(), objects });
          return objects;
        })
        .finally(() => this.listingsUnderWay.delete(prefix));
      this.listingsUnderWay.set(prefix, listing);
    }
    return listing;
  }

  private async download(key: string, path: string, etagFile: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}~p${randomUUID()}`;
    try {
      const { body, etag } = await this.objects.get(key);
      await pipeline(body, createWriteStream(partial));
      renameSync(partial, path);
      writeAtomically(etagFile, etag);
    } finally {
      rmSync(partial, { force: true });
    }
  }
}
