/**
 * @module cli/samples
 * Samples in and results out, as tables. For a FOQUS flowsheet a column `Node.var` is the
 * variable `var` of node `Node`: the Input `{"Node": {"var": v}}`, and output variables come
 * back flattened the same way. For other applications a column is a plain key of the Input.
 *
 * A cell becomes a JSON number when it reads as one, `true`/`false` booleans, `[…]`/`{…}` JSON
 * when it parses, and text otherwise; an empty cell leaves the variable out (a FOQUS job then
 * keeps the session file's own value). JSON lines give each job's Input object as it is.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { JobRecord } from "../client/api-client.ts";
import { UsageError } from "./cli-errors.ts";
import { parseCsv } from "./csv.ts";

export type TableFormat = "csv" | "jsonl";

/** One sample: its position in the input (0-based) and the job's Input. */
export interface Sample {
  index: number;
  input: Record<string, unknown>;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The value a CSV cell stands for; undefined for an empty cell. */
export function cellToValue(cell: string): unknown {
  const text = cell.trim();
  if (text === "") return undefined;
  if (NUMBER.test(text)) return Number(text);
  if (text === "true") return true;
  if (text === "false") return false;
  if ((text.startsWith("[") && text.endsWith("]")) || (text.startsWith("{") && text.endsWith("}"))) {
    try {
      return JSON.parse(text);
    } catch {
      return cell;
    }
  }
  return cell;
}

/** Where a column's value goes: `["Node", "var"]` for a FOQUS `Node.var`, else `[column]`. */
export function columnPath(column: string, nested: boolean): string[] {
  if (!nested) return [column];
  const dot = column.indexOf(".");
  return dot > 0 && dot < column.length - 1 ? [column.slice(0, dot), column.slice(dot + 1)] : [column];
}

/** A CSV row as a job's Input. */
export function rowToInput(header: string[], cells: string[], nested: boolean): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  header.forEach((column, i) => {
    if (column === "") return;
    const value = cellToValue(cells[i] ?? "");
    if (value === undefined) return;
    const [first, second] = columnPath(column, nested) as [string, string | undefined];
    if (second === undefined) {
      input[first] = value;
      return;
    }
    if (input[first] === undefined) input[first] = {};
    const node = input[first];
    if (typeof node === "object" && node !== null && !Array.isArray(node))
      (node as Record<string, unknown>)[second] = value;
  });
  return input;
}

/** Flattens variables to columns: `Node.var` for FOQUS (nested), plain keys otherwise. */
export function flattenVariables(values: unknown, nested: boolean): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof values !== "object" || values === null || Array.isArray(values)) return out;
  for (const [key, value] of Object.entries(values)) {
    if (nested && typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [name, inner] of Object.entries(value)) out.set(`${key}.${name}`, inner);
    } else {
      out.set(key, value);
    }
  }
  return out;
}

/** The output variables of a result record (the engine's `output` object). */
export function recordOutputs(record: JobRecord, nested: boolean): Map<string, unknown> {
  return flattenVariables((record.Output as { output?: unknown } | null)?.output, nested);
}

export function graphErrorOf(record: JobRecord): unknown {
  return (record.Output as { graphError?: unknown } | null)?.graphError;
}

/** The format a path's extension implies (`.jsonl`, `.ndjson` → jsonl), else csv. */
export function formatOfPath(path: string | undefined): TableFormat | undefined {
  if (!path || path === "-") return undefined;
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  if (/\.csv$/i.test(path)) return "csv";
  return undefined;
}

export function parseFormat(raw: string | undefined, what: string): TableFormat | undefined {
  if (raw === undefined) return undefined;
  if (raw === "csv" || raw === "jsonl") return raw;
  throw new UsageError(`${what} must be csv or jsonl, not "${raw}".`);
}

export interface SampleSource {
  /** The input's columns (CSV header), known once the first sample was read; [] for JSON lines. */
  columns: () => string[];
  samples: AsyncGenerator<Sample>;
}

/**
 * Samples from a stream, one at a time as they arrive. CSV needs a header row; a row wider than
 * the header, or a JSON line that is not an object, is a usage error naming its line.
 */
export function readSamples(stream: Readable, format: TableFormat, nested: boolean): SampleSource {
  let header: string[] = [];
  async function* csvSamples(): AsyncGenerator<Sample> {
    let index = -1;
    for await (const cells of parseCsv(stream)) {
      if (index === -1) {
        header = cells.map((cell) => cell.trim());
        if (header.every((column) => column === ""))
          throw new UsageError("The CSV's first row must name the input variables.");
        index = 0;
        continue;
      }
      if (cells.length > header.length && cells.slice(header.length).some((cell) => cell.trim() !== ""))
        throw new UsageError(
          `Row ${index + 2} of the CSV has ${cells.length} fields but the header names ${header.length}; quote values that contain commas.`,
        );
      yield { index, input: rowToInput(header, cells, nested) };
      index++;
    }
  }
  async function* jsonSamples(): AsyncGenerator<Sample> {
    let index = 0;
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`Line ${line} is not JSON (${(error as Error).message}).`);
      }
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw new UsageError(`Line ${line} must be a JSON object: one job's Input, e.g. {"x": 1}.`);
      yield { index: index++, input: value as Record<string, unknown> };
    }
  }
  return { columns: () => header, samples: format === "csv" ? csvSamples() : jsonSamples() };
}
