/**
 * @module cli/csv
 * CSV as RFC 4180 writes it (quoted fields with doubled quotes, line breaks inside quotes, CRLF
 * or LF), read incrementally: rows come out while the input is still arriving, so a
 * 100,000-row file is never held whole in memory.
 */

/** Rows of CSV text arriving in chunks; blank lines are skipped and a leading BOM dropped. */
export async function* parseCsv(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder("utf-8");
  let field = "";
  let row: string[] = [];
  let quoted = false; // inside a quoted field
  let quoteSeen = false; // inside a quoted field, the previous character was a quote
  let fieldStarted = false; // the current field was opened with a quote
  let first = true;
  const endRow = (): string[] | undefined => {
    row.push(field);
    const done = row;
    field = "";
    row = [];
    fieldStarted = false;
    return done.length === 1 && done[0] === "" ? undefined : done;
  };
  for await (const chunk of chunks) {
    let text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const rows: string[][] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false;
          if (c === '"') {
            field += '"';
            continue;
          }
          quoted = false; // the quote closed the field; handle c below
        } else if (c === '"') {
          quoteSeen = true;
          continue;
        } else {
          field += c;
          continue;
        }
      }
      if (c === '"' && field === "" && !fieldStarted) {
        quoted = true;
        fieldStarted = true;
      } else if (c === ",") {
        row.push(field);
        field = "";
        fieldStarted = false;
      } else if (c === "\n") {
        const done = endRow();
        if (done) rows.push(done);
      } else if (c === "\r") {
        // CR of CRLF (a lone CR is dropped too)
      } else {
        field += c;
      }
    }
    for (const done of rows) yield done;
  }
  if (quoted && !quoteSeen)
    throw new Error("The CSV ends inside a quoted field: a closing quote is missing.");
  if (field !== "" || row.length > 0) {
    const done = endRow();
    if (done) yield done;
  }
}

/** One CSV field: quoted when it holds a comma, quote, line break or surrounding space. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text =
    typeof value === "string"
      ? value
      : typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : JSON.stringify(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (LF-terminated). */
export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(",")}\n`;
}
