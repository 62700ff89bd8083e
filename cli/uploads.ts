/**
 * @module cli/uploads
 * Staged files into a simulation: each file through a presigned S3 URL (up to 5 GB, streamed
 * from disk with its length, as S3's PUT requires), a directory file by file with one progress
 * bar over all its bytes. A FOQUS simulation's `configuration` goes straight through the API
 * instead: the API checks that it is a FOQUS session and refuses it presigned.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join, relative, sep } from "node:path";
import type { Writable } from "node:stream";
import type { FoqusClient } from "../client/api-client.ts";
import { UsageError } from "./cli-errors.ts";

export interface StagedFile {
  /** On disk. */
  path: string;
  /** The staged input's name in the simulation. */
  remote: string;
  bytes: number;
}

/** The files to upload for `path` (a file, or every file under a directory), named `prefix/…`. */
export function filesToUpload(path: string, prefix?: string): StagedFile[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new UsageError(`${path} does not exist; name a file or a directory to upload.`);
  }
  const join2 = (name: string) => (prefix ? `${prefix.replace(/\/+$/, "")}/${name}` : name);
  if (stat.isFile()) return [{ path, remote: prefix ?? path.split(sep).pop()!, bytes: stat.size }];
  const files: StagedFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile())
        files.push({
          path: full,
          remote: join2(relative(path, full).split(sep).join("/")),
          bytes: statSync(full).size,
        });
    }
  };
  walk(path);
  if (files.length === 0) throw new UsageError(`${path} holds no files to upload.`);
  return files;
}

/** PUTs a file to a presigned URL, streamed with its Content-Length; `onBytes` reports progress. */
export function putFileToUrl(url: string, file: StagedFile, onBytes: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(target, { method: "PUT", headers: { "content-length": file.bytes } }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on("end", () => {
        if (response.statusCode && response.statusCode >= 200 && response.statusCode < 300) resolve();
        else
          reject(
            new Error(
              `Storage refused ${file.remote} (${response.statusCode}): ${body.slice(0, 300)}; run the upload again.`,
            ),
          );
      });
    });
    request.on("error", reject);
    const stream = createReadStream(file.path);
    stream.on("data", (chunk) => onBytes(chunk.length));
    stream.on("error", reject);
    stream.pipe(request);
  });
}

export interface UploadProgress {
  files: number;
  filesDone: number;
  bytes: number;
  bytesDone: number;
}

export function uploadLine(p: UploadProgress, width = 100): string {
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  const fraction = p.bytes > 0 ? p.bytesDone / p.bytes : p.filesDone / Math.max(1, p.files);
  const bar = 30;
  const filled = Math.round(Math.min(1, fraction) * bar);
  return `[${"#".repeat(filled)}${"-".repeat(bar - filled)}] ${p.filesDone}/${p.files} files  ${mb(p.bytesDone)}/${mb(p.bytes)} MB`.slice(
    0,
    width,
  );
}

/** Uploads the files into simulation `name`; draws progress on `stderr` when it is a terminal. */
export async function uploadFiles(
  client: FoqusClient,
  name: string,
  application: string,
  files: StagedFile[],
  stderr: Writable & { isTTY?: boolean; columns?: number },
): Promise<void> {
  const progress: UploadProgress = {
    files: files.length,
    filesDone: 0,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    bytesDone: 0,
  };
  let lastDraw = 0;
  const draw = (force = false) => {
    if (!stderr.isTTY) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    stderr.write(`\r\x1b[2K${uploadLine(progress, (stderr.columns || 100) - 1)}`);
  };
  for (const file of files) {
    if (application === "foqus" && file.remote === "configuration") {
      await client.putInput(name, file.remote, readFileSync(file.path));
      progress.bytesDone += file.bytes;
    } else {
      const url = await client.presignedInputUpload(name, file.remote);
      await putFileToUrl(url, file, (n) => {
        progress.bytesDone += n;
        draw();
      });
    }
    progress.filesDone++;
    draw(true);
  }
  if (stderr.isTTY) stderr.write("\n");
}
