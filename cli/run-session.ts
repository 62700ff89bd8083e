/**
 * @module cli/run-session
 * `foqus-cloud run`, `session append`, `session watch` and `session results`: samples streamed
 * into a session in chunks, live progress, and results streamed out as pages arrive.
 *
 * Appends carry client job ids `<tag>-<row>` (a random tag per command, the row zero-padded):
 * a retried append of the same chunk is recognised by the API and adds nothing twice, and every
 * result record says which input row it belongs to, so results are written in input order
 * without keeping the inputs in memory. Result pages are read through client/result-pages.ts
 * with the CLI's own page sequence (CLI_GENERATOR), never FOQUS's, so watching a session that
 * FOQUS desktop is polling takes no page from it.
 */
import { randomBytes } from "node:crypto";
import { accessSync, constants, createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiError,
  type FoqusClient,
  type JobRecord,
  type JobRequest,
  type JobState,
} from "../client/api-client.ts";
import { resultPages } from "../client/result-pages.ts";
import { ExitCodes, UsageError } from "./cli-errors.ts";
import { finishedCount, formatDuration, ProgressDisplay, RateMeter, summaryTable } from "./progress.ts";
import {
  headerLine,
  OrderedResultWriter,
  type ResultColumns,
  recordJsonLine,
  recordRow,
} from "./result-writer.ts";
import { flattenVariables, formatOfPath, readSamples, recordOutputs, type TableFormat } from "./samples.ts";

/** The CLI's result-page sequence (FOQUS uses the all-zero one). */
export const CLI_GENERATOR = "foqus-cloud-cli";
/** Jobs per append by default (the API takes up to 1,000 and 6 MB). */
export const DEFAULT_CHUNK = 500;
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
const SUCCESS: JobState = "success";

export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
}

export type InterruptChoice = "ask" | "kill" | "leave";

/** Retries a call that failed on the network or with a 5xx/429, up to 5 attempts. */
export async function withRetries<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retriable =
        error instanceof ApiError ? error.status >= 500 || error.status === 429 : error instanceof TypeError;
      if (!retriable || attempt >= attempts) throw error;
      await sleep(250 * 2 ** attempt);
    }
  }
}

const jobId = (tag: string, index: number) => `${tag}-${String(index).padStart(7, "0")}`;

/** The input row a job id of ours stands for, else undefined. */
export function rowOfJobId(tag: string, id: string): number | undefined {
  if (!id.startsWith(`${tag}-`)) return undefined;
  const row = Number(id.slice(tag.length + 1));
  return Number.isInteger(row) ? row : undefined;
}

/** A UsageError unless `path` is "-" (standard input) or a readable file. */
export function assertReadable(path: string): void {
  if (path === "-") return;
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new UsageError(
      `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}.`,
    );
  }
}

export function openInput(path: string, stdin: Readable): Readable {
  if (path === "-") return stdin;
  const stream = createReadStream(path);
  return stream;
}

function inputFormat(path: string, explicit: TableFormat | undefined): TableFormat {
  return explicit ?? formatOfPath(path) ?? "csv";
}

/** Which application a simulation runs, and so how its columns map to Input. */
async function simulationApplication(client: FoqusClient, simulation: string): Promise<string> {
  try {
    return (await client.simulation(simulation)).Application;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404)
      throw new ApiError(
        404,
        error.code,
        `Simulation ${simulation} does not exist: create it with \`foqus-cloud simulation create ${simulation} --app <application>\` (or --foqus flowsheet.foqus), or pick one from \`foqus-cloud simulation list\`.`,
      );
    throw error;
  }
}

export interface AppendOptions {
  simulation: string;
  application: string;
  inputs: string;
  inputFormat?: TableFormat | undefined;
  chunk: number;
  /** Start after every chunk, as FOQUS does, so the first jobs run while the rest append. */
  start: boolean;
  signal?: AbortSignal;
  onChunk?: (appended: number) => void;
  /** The job-id tag (default: a fresh random one). */
  tag?: string;
  /** Called once the input is open, with a getter of its columns (known after its first row). */
  onColumns?: (columns: () => string[]) => void;
}

/** A fresh job-id tag: 8 letters and digits. */
export function newJobTag(): string {
  return randomBytes(6)
    .toString("base64url")
    .replace(/[^A-Za-z0-9]/g, "x");
}

/** Streams samples into a session; answers the number appended and the input's columns. */
export async function appendSamples(
  client: FoqusClient,
  sessionId: string,
  io: CliIo,
  options: AppendOptions,
): Promise<{ appended: number; columns: () => string[]; tag: string }> {
  const tag = options.tag ?? newJobTag();
  const nested = options.application === "foqus";
  const stream = openInput(options.inputs, io.stdin);
  const opened = new Promise<void>((resolve, reject) => {
    if (options.inputs === "-") return resolve();
    stream.once("open", () => resolve());
    stream.once("error", (error) =>
      reject(new UsageError(`Cannot read ${options.inputs}: ${(error as Error).message}.`)),
    );
  });
  await opened;
  const source = readSamples(stream, inputFormat(options.inputs, options.inputFormat), nested);
  options.onColumns?.(source.columns);
  let appended = 0;
  let chunk: JobRequest[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const jobs = chunk;
    chunk = [];
    bytes = 0;
    await withRetries(() => client.append(sessionId, jobs));
    appended += jobs.length;
    if (options.start) await withRetries(() => client.start(sessionId));
    options.onChunk?.(appended);
  };
  for await (const sample of source.samples) {
    options.signal?.throwIfAborted();
    const job: JobRequest = {
      Simulation: options.simulation,
      Input: sample.input,
      Id: jobId(tag, sample.index),
      ...(nested ? { Reset: false } : {}),
    };
    const size = Buffer.byteLength(JSON.stringify(job));
    if (chunk.length >= options.chunk || (chunk.length > 0 && bytes + size > MAX_CHUNK_BYTES)) await flush();
    chunk.push(job);
    bytes += size;
  }
  await flush();
  return { appended, columns: source.columns, tag };
}

/** Asks on the terminal whether to kill the session; `leave` when there is no terminal to ask on. */
async function askKillOrLeave(
  io: CliIo,
  sessionId: string,
  choice: InterruptChoice,
): Promise<"kill" | "leave"> {
  if (choice !== "ask") return choice;
  if (!io.stdin.isTTY) return "leave";
  const prompt = createInterface({ input: io.stdin, output: io.stderr });
  const answered = prompt.question(
    `\nInterrupted. Kill session ${sessionId} (its unfinished jobs stop), or leave it running? [k]ill / [L]eave: `,
  );
  // A second Ctrl-C at the question leaves the session running.
  const again = new Promise<string>((resolve) => prompt.once("SIGINT", () => resolve("leave")));
  const answer = await Promise.race([answered, again]);
  prompt.close();
  return /^k/i.test(answer.trim()) ? "kill" : "leave";
}

function comeBack(sessionId: string, out: string | undefined): string {
  return [
    "Come back to it with:",
    `  foqus-cloud session watch ${sessionId}`,
    `  foqus-cloud session results ${sessionId} --out ${out && out !== "-" ? out : "results.csv"}`,
  ].join("\n");
}

export interface RunOptions {
  simulation: string;
  inputs: string;
  inputFormat?: TableFormat | undefined;
  out?: string | undefined;
  format?: TableFormat | undefined;
  chunk: number;
  json: boolean;
  onInterrupt: InterruptChoice;
  /** Registers the Ctrl-C handler (process.on("SIGINT") by default); answers its remover. */
  onSigint?: (handler: () => void) => () => void;
}

const defaultSigint = (handler: () => void) => {
  process.on("SIGINT", handler);
  return () => process.off("SIGINT", handler);
};

/** `foqus-cloud run`: create, append in chunks, start, watch, write results, summarise. */
export async function runSamples(client: FoqusClient, io: CliIo, options: RunOptions): Promise<number> {
  assertReadable(options.inputs);
  const application = await simulationApplication(client, options.simulation);
  const nested = application === "foqus";
  const display = new ProgressDisplay(io.stderr);
  const sessionId = await client.createSession();
  if (display.enabled)
    display.note(`session ${sessionId} (simulation ${options.simulation}, ${application})`);

  const outFormat =
    options.format ?? formatOfPath(options.out) ?? inputFormat(options.inputs, options.inputFormat);
  const toFile = options.out !== undefined && options.out !== "-";
  const out: Writable = toFile ? createWriteStream(options.out!) : io.stdout;
  let columns: () => string[] = () => [];
  const writer = new OrderedResultWriter({
    out,
    format: outFormat,
    inputColumns: () => columns(),
    nested,
    foqus: nested,
  });

  const controller = new AbortController();
  let interrupted = false;
  const removeSigint = (options.onSigint ?? defaultSigint)(() => {
    if (interrupted) return;
    interrupted = true;
    controller.abort();
  });

  const started = Date.now();
  const counts: Partial<Record<JobState, number>> = {};
  const seen = new Set<number>();
  let appended = 0;
  let appending = true;
  const tag = newJobTag();
  let liveCounts: Partial<Record<JobState, number>> | undefined;
  const rate = new RateMeter();
  let currentRate: number | undefined;
  const draw = () => {
    const shown = liveCounts ?? counts;
    display.update({
      // The summary counts jobs of a chunk whose append has not answered yet.
      total: Math.max(
        appended,
        Object.values(shown).reduce((sum, n) => sum + (n ?? 0), 0),
      ),
      counts: shown,
      elapsedMs: Date.now() - started,
      rate: currentRate,
      appending,
    });
  };

  const appendTask = (async () => {
    try {
      const result = await appendSamples(client, sessionId, io, {
        simulation: options.simulation,
        application,
        inputs: options.inputs,
        inputFormat: options.inputFormat,
        chunk: options.chunk,
        start: true,
        signal: controller.signal,
        tag,
        onColumns: (getter) => {
          columns = getter;
        },
        onChunk: (n) => {
          appended = n;
          draw();
        },
      });
      appended = result.appended;
    } catch (error) {
      controller.abort();
      throw error;
    } finally {
      appending = false;
    }
  })();
  const resultsTask = (async () => {
    for await (const poll of resultPages(client, sessionId, {
      generator: CLI_GENERATOR,
      intervalMs: 500,
      signal: controller.signal,
    })) {
      for (const record of poll.records) {
        const row = rowOfJobId(tag, record.Id);
        if (row === undefined || seen.has(row)) continue;
        seen.add(row);
        counts[record.State] = (counts[record.State] ?? 0) + 1;
        writer.add(row, record);
      }
      if (!appending && seen.size >= appended) return;
    }
  })().catch((error: unknown) => {
    controller.abort();
    throw error;
  });
  const progressTask = (async () => {
    while (!controller.signal.aborted && (appending || seen.size < appended)) {
      if (display.enabled) {
        try {
          const summary = await client.sessionSummary(sessionId);
          liveCounts = summary.Counts;
        } catch {
          // progress only; the result pages are what counts
        }
        currentRate = rate.add(Date.now(), finishedCount(liveCounts ?? counts));
        draw();
      }
      await sleep(1000, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  })();

  const outcome = await Promise.allSettled([appendTask, resultsTask]);
  controller.abort();
  await progressTask;
  removeSigint();
  display.clear();
  const failure = outcome.find(
    (result): result is PromiseRejectedResult =>
      result.status === "rejected" && !(interrupted && (result.reason as Error)?.name === "AbortError"),
  );
  if (failure && !interrupted) {
    writer.finish(true);
    if (toFile) await closeStream(out);
    io.stderr.write(
      `The run of session ${sessionId} stopped on an error.\n${comeBack(sessionId, options.out)}\n`,
    );
    throw failure.reason;
  }

  if (interrupted) {
    writer.finish(true);
    if (toFile) await closeStream(out);
    const choice = await askKillOrLeave(io, sessionId, options.onInterrupt);
    if (choice === "kill") {
      await client.kill(sessionId);
      io.stderr.write(
        `Killed session ${sessionId}: ${seen.size} of ${appended} jobs had finished${toFile ? `; their rows are in ${options.out}` : ""}.\nAll its results: foqus-cloud session results ${sessionId} --out ${toFile ? options.out : "results.csv"}\n`,
      );
    } else {
      io.stderr.write(
        `Session ${sessionId} keeps running (${seen.size} of ${appended} appended jobs finished${appending ? "; the rest of the input was not appended" : ""}).\n${comeBack(sessionId, options.out)}\n`,
      );
    }
    return ExitCodes.interrupted;
  }

  writer.finish();
  if (toFile) await closeStream(out);
  if (appended === 0) {
    await client.deleteSession(sessionId);
    throw new UsageError(`${options.inputs} holds no samples: give it a header row and one row per job.`);
  }
  const seconds = (Date.now() - started) / 1000;
  const summaryStream = toFile ? io.stdout : io.stderr;
  const failed = appended - (counts[SUCCESS] ?? 0);
  if (options.json) {
    summaryStream.write(
      `${JSON.stringify({
        session: sessionId,
        simulation: options.simulation,
        jobs: appended,
        counts,
        seconds: Number(seconds.toFixed(1)),
        jobsPerSecond: Number((appended / Math.max(seconds, 0.001)).toFixed(2)),
        out: toFile ? options.out : null,
      })}\n`,
    );
  } else {
    summaryStream.write(
      summaryTable(counts, [
        ["session", sessionId],
        ["time", formatDuration(seconds * 1000)],
        ["throughput", `${(appended / Math.max(seconds, 0.001)).toFixed(1)} jobs/s`],
        ...(toFile ? ([["results", options.out!]] as [string, string][]) : []),
      ]),
    );
  }
  return failed > 0 ? ExitCodes.jobsFailed : ExitCodes.success;
}

async function closeStream(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream);
}

/** `session append`: streams samples into an existing session. */
export async function appendToSession(
  client: FoqusClient,
  io: CliIo,
  sessionId: string,
  options: Omit<AppendOptions, "application">,
): Promise<number> {
  assertReadable(options.inputs);
  await client.sessionSummary(sessionId); // a clear 404 before reading any input
  const application = await simulationApplication(client, options.simulation);
  const { appended } = await appendSamples(client, sessionId, io, { ...options, application });
  return appended;
}

/** `session watch`: the live progress of a session until every job finished. */
export async function watchSession(
  client: FoqusClient,
  io: CliIo,
  sessionId: string,
  options: { json: boolean; onSigint?: RunOptions["onSigint"] },
): Promise<number> {
  const display = new ProgressDisplay(io.stderr);
  const rate = new RateMeter();
  const started = Date.now();
  let interrupted = false;
  const controller = new AbortController();
  const remove = (options.onSigint ?? defaultSigint)(() => {
    interrupted = true;
    controller.abort();
  });
  let summary = await client.sessionSummary(sessionId);
  try {
    while (!interrupted) {
      const done = summary.Jobs > 0 && summary.Finished >= summary.Jobs;
      display.update({
        total: summary.Jobs,
        counts: summary.Counts,
        elapsedMs: Date.now() - started,
        rate: rate.add(Date.now(), summary.Finished),
      });
      if (done || summary.Jobs === 0) break;
      await sleep(1000, undefined, { signal: controller.signal }).catch(() => undefined);
      if (!interrupted) summary = await client.sessionSummary(sessionId);
    }
  } finally {
    remove();
    display.end();
  }
  if (interrupted) {
    io.stderr.write(`Stopped watching; session ${sessionId} keeps running.\n`);
    return ExitCodes.interrupted;
  }
  io.stdout.write(
    options.json ? `${JSON.stringify(summary)}\n` : summaryTable(summary.Counts, [["session", sessionId]]),
  );
  return summary.Counts.success === summary.Jobs ? ExitCodes.success : ExitCodes.jobsFailed;
}

/** Records sorted into append order: by append time, then by our row ids. */
export function inAppendOrder(records: JobRecord[]): JobRecord[] {
  return [...records].sort((a, b) =>
    a.Create < b.Create ? -1 : a.Create > b.Create ? 1 : a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0,
  );
}

/** `session results`: every finished job's result, in append order. */
export async function writeSessionResults(
  client: FoqusClient,
  io: CliIo,
  sessionId: string,
  options: { out?: string | undefined; format?: TableFormat | undefined; wait: boolean; json: boolean },
): Promise<number> {
  let summary = await client.sessionSummary(sessionId);
  if (options.wait) {
    while (summary.Finished < summary.Jobs) {
      await sleep(1000);
      summary = await client.sessionSummary(sessionId);
    }
  }
  const records: JobRecord[] = [];
  const seen = new Set<string>();
  for await (const poll of resultPages(client, sessionId, { generator: CLI_GENERATOR, untilIdle: true }))
    for (const record of poll.records)
      if (!seen.has(record.Id)) {
        seen.add(record.Id);
        records.push(record);
      }
  const sorted = inAppendOrder(records);
  const format = options.format ?? formatOfPath(options.out) ?? "csv";
  const toFile = options.out !== undefined && options.out !== "-";
  const out: Writable = toFile ? createWriteStream(options.out!) : io.stdout;
  const nested = sorted.some((record) => record.Application === "foqus");
  if (format === "jsonl") {
    for (const record of sorted) out.write(recordJsonLine(record));
  } else {
    const inputs = new Set<string>();
    const outputs = new Set<string>();
    for (const record of sorted) {
      for (const key of flattenVariables(record.Input, nested).keys()) inputs.add(key);
      if (record.State === SUCCESS) for (const key of recordOutputs(record, nested).keys()) outputs.add(key);
    }
    const columns: ResultColumns = {
      inputs: [...inputs],
      outputs: [...outputs].map((name) => (inputs.has(name) ? `output.${name}` : name)),
      graphError:
        nested || sorted.some((r) => (r.Output as { graphError?: unknown } | null)?.graphError !== undefined),
    };
    out.write(headerLine(columns));
    for (const record of sorted) out.write(recordRow(record, columns, nested));
  }
  if (toFile) await closeStream(out);
  const unfinished = summary.Jobs - sorted.length;
  if (unfinished > 0)
    io.stderr.write(
      `${unfinished} of ${summary.Jobs} jobs have not finished yet; run this again later, or with --wait.\n`,
    );
  if (toFile)
    io.stdout.write(
      options.json
        ? `${JSON.stringify({ session: sessionId, rows: sorted.length, unfinished, out: options.out })}\n`
        : `${sorted.length} results written to ${options.out}\n`,
    );
  return sorted.every((record) => record.State === SUCCESS) && unfinished === 0
    ? ExitCodes.success
    : ExitCodes.jobsFailed;
}
