/**
 * @module cli/progress
 * The live progress line (a bar, counts per state, throughput, ETA) and the end-of-run summary
 * table. The line is drawn on stderr only when stderr is a terminal: piped or redirected output
 * never gets control characters.
 */
import type { Writable } from "node:stream";
import type { JobState } from "../client/api-client.ts";

const TERMINAL: JobState[] = ["success", "error", "terminate", "expired"];
/** States in the order they are shown, with the words a person reads. */
const SHOWN: [JobState, string][] = [
  ["success", "success"],
  ["error", "error"],
  ["terminate", "killed"],
  ["expired", "expired"],
  ["running", "running"],
  ["setup", "setup"],
  ["submit", "queued"],
  ["pause", "paused"],
  ["create", "created"],
];

export interface ProgressState {
  /** Jobs in the session (or expected: appended so far). */
  total: number;
  counts: Partial<Record<JobState, number>>;
  /** Milliseconds since the jobs were started. */
  elapsedMs: number;
  /** Jobs finished per second, measured over the recent past; undefined before it can be. */
  rate: number | undefined;
  /** More jobs are still being appended: the total is not final (no ETA yet). */
  appending?: boolean;
}

export function finishedCount(counts: Partial<Record<JobState, number>>): number {
  return TERMINAL.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(s).padStart(2, "0")}s`
      : `${s}s`;
}

/** One progress line, at most `width` characters. */
export function progressLine(state: ProgressState, width = 100): string {
  const done = finishedCount(state.counts);
  const fraction = state.total > 0 ? Math.min(1, done / state.total) : 0;
  const counts = SHOWN.filter(([s]) => (state.counts[s] ?? 0) > 0)
    .map(([s, word]) => `${word} ${state.counts[s]}`)
    .join(" · ");
  const rate = state.rate !== undefined ? `${state.rate.toFixed(state.rate < 10 ? 1 : 0)} jobs/s` : "";
  const remaining = state.total - done;
  const eta = state.appending
    ? "appending…"
    : remaining === 0 && state.total > 0
      ? `done in ${formatDuration(state.elapsedMs)}`
      : state.rate && state.rate > 0
        ? `ETA ${formatDuration((remaining / state.rate) * 1000)}`
        : "";
  const total = `${state.total}${state.appending ? "+" : ""}`;
  const text = ` ${done}/${total} ${Math.floor(fraction * 100)}%  ${counts}  ${rate}  ${eta}`.trimEnd();
  const barWidth = Math.max(10, Math.min(30, width - text.length - 2));
  const filled = Math.round(fraction * barWidth);
  return `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]${text}`.slice(0, width);
}

/** Finished-jobs rate over a sliding window of samples (jobs/s). */
export class RateMeter {
  private readonly samples: { at: number; done: number }[] = [];
  constructor(private readonly windowMs = 30_000) {}

  add(at: number, done: number): number | undefined {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const span = at - first.at;
    return span >= 1000 ? (done - first.done) / (span / 1000) : undefined;
  }
}

/** Draws one line over itself on a terminal; does nothing elsewhere. */
export class ProgressDisplay {
  private shown = false;
  constructor(
    private readonly stream: Writable & { isTTY?: boolean; columns?: number },
    readonly enabled = Boolean(stream.isTTY),
  ) {}

  update(state: ProgressState): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[2K${progressLine(state, (this.stream.columns || 100) - 1)}`);
    this.shown = true;
  }

  /** Prints a line above the progress line. */
  note(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
  }

  /** Leaves the last line standing. */
  end(): void {
    if (this.shown) this.stream.write("\n");
    this.shown = false;
  }
}

/** The summary table: jobs per state with shares, and the figures of the run. */
export function summaryTable(
  counts: Partial<Record<JobState, number>>,
  figures: [string, string][] = [],
): string {
  const total = SHOWN.reduce((sum, [state]) => sum + (counts[state] ?? 0), 0);
  const rows: [string, string, string][] = SHOWN.filter(([state]) => (counts[state] ?? 0) > 0).map(
    ([state, word]) => [
      word,
      String(counts[state]),
      total > 0 ? `${(((counts[state] ?? 0) / total) * 100).toFixed(1)}%` : "",
    ],
  );
  rows.push(["total", String(total), ""]);
  const w0 = Math.max(5, ...rows.map((r) => r[0].length), ...figures.map((f) => f[0].length));
  const w1 = Math.max(4, ...rows.map((r) => r[1].length));
  const lines = [`${"state".padEnd(w0)}  ${"jobs".padStart(w1)}  share`];
  for (const [word, n, share] of rows)
    lines.push(`${word.padEnd(w0)}  ${n.padStart(w1)}  ${share}`.trimEnd());
  for (const [name, value] of figures) lines.push(`${name.padEnd(w0)}  ${value}`);
  return `${lines.join("\n")}\n`;
}
