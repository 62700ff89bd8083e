/**
 * The staged-file cache (worker/staged-files.ts) with the bucket in memory: users whose names
 * differ only in case get directories that differ under case folding too, no key climbs out of
 * the cache, a new version never changes a file a job already has open, and jobs that need the
 * same file at once share one download and one listing.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import test from "ava";
import { cacheSegment, StagedFiles, type StagedObjects } from "../../worker/staged-files.ts";

class MemoryBucket implements StagedObjects {
  readonly objects = new Map<string, { content: string; etag: string }>();
  gets = 0;
  lists = 0;
  /** Holds every get until released, so that downloads overlap. */
  gate: Promise<void> | undefined;

  put(key: string, content: string): void {
    this.objects.set(key, { content, etag: `"${content.length}-${this.objects.size}-${Math.random()}"` });
  }

  async list(prefix: string) {
    this.lists += 1;
    await new Promise((resolve) => setImmediate(resolve)); // a listing takes a moment
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, { etag }]) => ({ key, etag }));
  }

  async get(key: string) {
    this.gets += 1;
    await this.gate;
    const object = this.objects.get(key);
    if (!object) throw new Error(`NoSuchKey ${key}`);
    return { body: Readable.from([Buffer.from(object.content)]), etag: object.etag };
  }
}

function cache(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), "staged-files-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bucket = new MemoryBucket();
  let now = 0;
  const files = new StagedFiles("bucket", dir, () => now, bucket);
  return { dir, bucket, files, later: () => (now += 120_000) };
}

test("users whose names differ only in case never share a cache directory, even where case folds", async (t) => {
  const c = cache(t);
  c.bucket.put("Alice/sim/configuration", "Alice's flowsheet");
  c.bucket.put("alice/sim/configuration", "alice's flowsheet");
  c.bucket.put("alice/Sim/configuration", "another simulation of alice");
  const upper = (await c.files.fetch("Alice", "sim")).configuration!;
  const lower = (await c.files.fetch("alice", "sim")).configuration!;
  const other = (await c.files.fetch("alice", "Sim")).configuration!;
  // On macOS or Windows, paths equal up to case are one file: these must differ after folding.
  const folded = new Set([upper, lower, other].map((path) => path.toLowerCase()));
  t.is(folded.size, 3);
  t.is(readFileSync(upper, "utf8"), "Alice's flowsheet");
  t.is(readFileSync(lower, "utf8"), "alice's flowsheet");
  t.is(readFileSync(other, "utf8"), "another simulation of alice");
});

test("cache path segments are injective, lower case only, and never special", (t) => {
  const names = [
    "Alice",
    "alice",
    "ALICE",
    "^alice",
    "~41lice",
    "a.b",
    ".",
    "..",
    "",
    "con",
    "CON",
    "con.txt",
    "x y",
    "é",
  ];
  const segments = names.map(cacheSegment);
  t.is(new Set(segments.map((segment) => segment.toLowerCase())).size, names.length);
  for (const segment of segments) {
    t.regex(segment, /^[a-z0-9_.^~-]+$/);
    t.false(segment === "." || segment === "..");
    t.false(/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/.test(segment), segment);
  }
});

test("no object key climbs out of the cache directory", async (t) => {
  const c = cache(t);
  c.bucket.put("alice/sim/../../../escaped", "x");
  const files = await c.files.fetch("alice", "sim");
  const path = files["../../../escaped"]!;
  t.false(relative(c.dir, path).startsWith(".."), path);
  t.is(readFileSync(path, "utf8"), "x");
});

test("a new version never changes a file a job has open, and jobs at once share one download", async (t) => {
  const c = cache(t);
  c.bucket.put("alice/sim/configuration", "version 1");
  const path = (await c.files.fetch("alice", "sim")).configuration!;
  const open = openSync(path, "r");
  t.teardown(() => closeSync(open));

  c.bucket.put("alice/sim/configuration", "version 2, longer");
  c.later(); // the listing is looked at again
  let release: () => void = () => undefined;
  c.bucket.gate = new Promise((resolve) => {
    release = resolve;
  });
  const before = c.bucket.gets;
  const jobs = [c.files.fetch("alice", "sim"), c.files.fetch("alice", "sim"), c.files.fetch("alice", "sim")];
  await new Promise((resolve) => setImmediate(resolve));
  release();
  const fetched = await Promise.all(jobs);
  t.is(c.bucket.gets - before, 1, "one download for three jobs");
  for (const files of fetched) t.is(readFileSync(files.configuration!, "utf8"), "version 2, longer");
  // The job that opened version 1 still reads version 1, whole.
  const buffer = Buffer.alloc(64);
  const read = readSync(open, buffer, 0, 64, 0);
  t.is(buffer.subarray(0, read).toString(), "version 1");
  // And nothing is downloaded again while the version stays.
  c.later();
  await c.files.fetch("alice", "sim");
  t.is(c.bucket.gets - before, 1);
});

test("jobs of one simulation that start at once share one listing, and it is kept a minute", async (t) => {
  const c = cache(t);
  c.bucket.put("alice/sim/configuration", "version 1");
  c.bucket.put("bob/sim/configuration", "version 1");
  const fetched = await Promise.all([
    ...Array.from({ length: 8 }, () => c.files.fetch("alice", "sim")),
    c.files.fetch("bob", "sim"),
  ]);
  t.is(c.bucket.lists, 2, "one listing for alice's eight jobs, one for bob's");
  t.true(fetched.every((files) => files.configuration !== undefined));
  await c.files.fetch("alice", "sim");
  t.is(c.bucket.lists, 2, "within the minute, the listing is reused");
  c.later();
  await c.files.fetch("alice", "sim");
  t.is(c.bucket.lists, 3, "after it, listed again");
});
