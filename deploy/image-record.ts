/**
 * @module deploy/image-record
 * The image `make push` pushed, as `make plan` / `make deploy` read it (.deploy/<env>/image.json):
 * Terraform gets its digest, so every function runs exactly that image and a new build always
 * redeploys (a tag can move; a digest cannot).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface ImageRecord {
  repositoryUrl: string;
  tag: string;
  /** "sha256:<64 hex>", as the registry answered the push. */
  digest: string;
  /** <repositoryUrl>@<digest>: what the functions run. */
  imageUri: string;
  pushedAt: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The digest in `docker push` output ("<tag>: digest: sha256:… size: 1234"). */
export function digestFromPushOutput(output: string): string {
  const match = /digest: (sha256:[0-9a-f]{64})/.exec(output);
  if (!match?.[1]) throw new Error(`docker push printed no digest:\n${output.slice(-2000)}`);
  return match[1];
}

export function writeImageRecord(path: string, record: ImageRecord): void {
  if (!DIGEST.test(record.digest)) throw new Error(`Not an image digest: ${record.digest}`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
}

export function readImageRecord(path: string): ImageRecord {
  if (!existsSync(path)) throw new Error(`${path} does not exist: run make push (or make deploy) first.`);
  const record = JSON.parse(readFileSync(path, "utf8")) as ImageRecord;
  if (!DIGEST.test(record.digest)) throw new Error(`${path} holds no image digest: run make push again.`);
  return record;
}
