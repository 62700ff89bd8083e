/**
 * @module cli/result-writer
 * Writes result records as rows in input order while they arrive in finish order: a record is
 * held until every earlier row was written, so the file grows with the longest finished prefix
 * and is complete, in order, when the last job finished. CSV rows are the input columns, the
 * output variables flattened the same way, `State`, `graphError` (when the engine gives one)
 * and `Message`; a JSON line is `{"Id","State","Input","Output","Message","ErrorClass"}`.
 *
 * The CSV header needs the output variables' names, which only a result can tell: rows wait
 * until a successful record has arrived (or the run ends), and its variables name the output
 * columns. A later record's extra variable has no column; its value is dropped from the CSV (the
 * JSON lines keep everything).
 */
import type { Writable } from "node:stream";
import type { JobRecord } from "../client/api-client.ts";
import { csvLine } from "./csv.ts";
import { flattenVariables, graphErrorOf, recordOutputs, type TableFormat } from "./samples.ts";

export interface ResultColumns {
  inputs: string[];
  outputs: string[];
  graphError: boolean;
}

/** The CSV columns for these input columns and a successful record (or none yet). */
export function resultColumns(
  inputs: string[],
  sample: JobRecord | undefined,
  nested: boolean,
  foqus: boolean,
): ResultColumns {
  const taken = new Set(inputs);
  const outputs = sample
    ? [...recordOutputs(sample, nested).keys()].map((name) => (taken.has(name) ? `output.${name}` : name))
    : [];
  return { inputs, outputs, graphError: foqus || (sample ? graphErrorOf(sample) !== undefined : false) };
}

export function headerLine(columns: ResultColumns): string {
  return csvLine([
    ...columns.inputs,
    ...columns.outputs,
    "State",
    ...(columns.graphError ? ["graphError"] : []),
    "Message",
  ]);
}

/** One CSV row of a record under `columns`. */
export function recordRow(record: JobRecord, columns: ResultColumns, nested: boolean): string {
  const inputs = flattenVariables(record.Input, nested);
  const outputs = recordOutputs(record, nested);
  const taken = new Set(columns.inputs);
  return csvLine([
    ...columns.inputs.map((column) => inputs.get(column)),
    ...columns.outputs.map((column) =>
      outputs.get(column.startsWith("output.") && taken.has(column.slice(7)) ? column.slice(7) : column),
    ),
    record.State,
    ...(columns.graphError ? [graphErrorOf(record)] : []),
    record.Message ?? "",
  ]);
}

export function recordJsonLine(record: JobRecord): string {
  return `${JSON.stringify({
    Id: record.Id,
    State: record.State,
    Input: record.Input,
    Output: record.Output,
    Message: record.Message,
    ...(record.ErrorClass ? { ErrorClass: record.ErrorClass } : {}),
  })}\n`;
}

export interface OrderedWriterOptions {
  out: Writable;
  format: TableFormat;
  /** The input's columns (CSV header); for JSON lines input, derived from the first record. */
  inputColumns: () => string[];
  nested: boolean;
  foqus: boolean;
}

export class OrderedResultWriter {
  private readonly pending = new Map<number, JobRecord>();
  private nextIndex = 0;
  private columns: ResultColumns | undefined;
  private sample: JobRecord | undefined;
  /** Rows written so far. */
  written = 0;

  constructor(private readonly options: OrderedWriterOptions) {}

  /** A record for row `index` (0-based); writes every row that is now ready. */
  add(index: number, record: JobRecord): void {
    if (index < this.nextIndex || this.pending.has(index)) return; // a record seen twice
    this.pending.set(index, record);
    if (!this.sample && record.State === "success") this.sample = record;
    this.flush(false);
  }

  /**
   * The run is over: writes the header if still unwritten and, when `partial`, every held row
   * in order, skipping the rows whose jobs have not finished.
   */
  finish(partial = false): void {
    this.flush(true);
    if (!partial) return;
    for (const index of [...this.pending.keys()].sort((a, b) => a - b)) {
      this.write(this.pending.get(index)!);
      this.pending.delete(index);
    }
  }

  private flush(ending: boolean): void {
    if (this.options.format === "csv" && !this.columns) {
      if (!this.sample && !ending) return;
      const inputs = this.options.inputColumns();
      const first = this.pending.get(this.nextIndex) ?? this.sample;
      this.columns = resultColumns(
        inputs.length > 0 || !first ? inputs : [...flattenVariables(first.Input, this.options.nested).keys()],
        this.sample,
        this.options.nested,
        this.options.foqus,
      );
      this.options.out.write(headerLine(this.columns));
    }
    for (let record = this.pending.get(this.nextIndex); record; record = this.pending.get(this.nextIndex)) {
      this.write(record);
      this.pending.delete(this.nextIndex);
      this.nextIndex++;
    }
  }

  private write(record: JobRecord): void {
    this.options.out.write(
      this.options.format === "csv"
        ? recordRow(record, this.columns!, this.options.nested)
        : recordJsonLine(record),
    );
    this.written++;
  }
}
