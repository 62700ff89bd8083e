/**
 * @module pricing/dynamodb-units
 * DynamoDB request units, two ways, for the benchmark's request counting (aws/request-counter.ts):
 *
 * - `reportedUnits`: what a response's ConsumedCapacity says (ReturnConsumedCapacity TOTAL). On
 *   AWS this is the bill. A transaction's figure already holds its doubled units.
 * - `unitsByRule`: DynamoDB's documented rules applied to the item sizes a request and its
 *   response show: a write unit per 1 KB written (2 in a transaction), a read unit per 4 KB read
 *   strongly consistent (0.5 eventually consistent, 2 in a transaction), a BatchGetItem's items
 *   rounded up one by one, a Query's or Scan's items summed before rounding, and one write per
 *   index entry a write puts or removes (two when it moves one: an index key changed).
 *
 * What a request does not show is counted at its least and said so (`sizeNotVisible`): an update
 * or a delete names only the key and the values it writes, not the item's size before or after;
 * an update or a delete is taken to move, or remove, the entries of every index whose attributes
 * it touches (the item was in the index). A write to a table whose indexes are not known counts
 * no index writes (`indexesUnknown`). A failed conditional write (or a cancelled transaction)
 * costs its table units, as DynamoDB still charges for the attempt. A transaction's index writes
 * are doubled like its table writes (its ConsumedCapacity on AWS is the check of that).
 */

/** An index as the rules need it: its key attributes and what it projects. */
export interface IndexSchema {
  name: string;
  hashKey: string;
  rangeKey?: string | undefined;
  projection: "ALL" | "KEYS_ONLY" | "INCLUDE";
  /** INCLUDE's non-key attributes. */
  nonKeyAttributes: string[];
}

export interface TableSchema {
  hashKey: string;
  rangeKey?: string | undefined;
  /** Local and global secondary indexes alike: both cost a write per entry written or removed. */
  indexes: IndexSchema[];
}

/** Table name → schema. */
export type TableSchemas = ReadonlyMap<string, TableSchema>;

export interface Units {
  read: number;
  write: number;
}

export interface RuleUnits extends Units {
  /** 1 when part of an item's size (or whether it was in an index) could not be seen. */
  sizeNotVisible: number;
  /** 1 when the request wrote to a table whose indexes were not given. */
  indexesUnknown: number;
}

/** How an operation's items arrive: as AttributeValues (DynamoDBClient) or plain values (document client). */
export type ItemForm = "marshalled" | "native";

const WRITE_UNIT_BYTES = 1024;
const READ_UNIT_BYTES = 4096;

/** The operations whose units are reads; every other unit-consuming operation writes. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set([
  "GetItem",
  "BatchGetItem",
  "Query",
  "Scan",
  "TransactGetItems",
]);

/** The operations that accept ReturnConsumedCapacity. */
export const CAPACITY_OPERATIONS: ReadonlySet<string> = new Set([
  ...READ_OPERATIONS,
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
]);

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

/** A number's size: 1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed). */
export function numberSize(text: string): number {
  const mantissa = text.replace(/^[+-]/, "").replace(/[eE].*$/, "");
  const digits = mantissa.replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function binarySize(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === "string") return Buffer.from(value, "base64").byteLength;
  return 0;
}

/** The size of one AttributeValue ({S}, {N}, {M}, …), name not included. */
export function attributeValueSize(value: Record<string, unknown>): number {
  if (typeof value.S === "string") return utf8(value.S);
  if (typeof value.N === "string") return numberSize(value.N);
  if (value.B !== undefined) return binarySize(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (Array.isArray(value.SS)) return (value.SS as string[]).reduce((sum, s) => sum + utf8(s), 0);
  if (Array.isArray(value.NS)) return (value.NS as string[]).reduce((sum, n) => sum + numberSize(n), 0);
  if (Array.isArray(value.BS))
    return (value.BS as unknown[]).reduce<number>((sum, b) => sum + binarySize(b), 0);
  if (Array.isArray(value.L))
    return (value.L as Record<string, unknown>[]).reduce(
      (sum, element) => sum + 1 + attributeValueSize(element),
      3,
    );
  if (value.M && typeof value.M === "object")
    return Object.entries(value.M as Record<string, Record<string, unknown>>).reduce(
      (sum, [name, element]) => sum + 1 + utf8(name) + attributeValueSize(element),
      3,
    );
  return 0;
}

/** The size of a plain value as the document client marshalls it, name not included. */
export function nativeValueSize(value: unknown): number {
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number" || typeof value === "bigint") return numberSize(String(value));
  if (typeof value === "boolean" || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set)
    return [...value].reduce<number>((sum, element) => sum + nativeValueSize(element), 0);
  if (Array.isArray(value))
    return value.reduce<number>((sum, element) => sum + 1 + nativeValueSize(element), 3);
  if (typeof value === "object") {
    // lib-dynamodb's NumberValue carries its digits as a string.
    const digits = (value as { value?: unknown }).value;
    if (value.constructor?.name === "NumberValue" && typeof digits === "string") return numberSize(digits);
    return Object.entries(value as Record<string, unknown>).reduce(
      (sum, [name, element]) => sum + 1 + utf8(name) + nativeValueSize(element),
      3,
    );
  }
  return 0;
}

/** An item's size: every attribute's name and value. */
export function itemSize(item: Record<string, unknown> | undefined, form: ItemForm): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (form === "native" && value === undefined) continue;
    size +=
      utf8(name) +
      (form === "marshalled" ? attributeValueSize(value as Record<string, unknown>) : nativeValueSize(value));
  }
  return size;
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
const readBlocks = (bytes: number) => Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));

/** Sums what a response's ConsumedCapacity reports, or undefined when it reports nothing. */
export function reportedUnits(operation: string, output: Record<string, unknown>): Units | undefined {
  const consumed = output.ConsumedCapacity;
  const entries = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as Record<
    string,
    unknown
  >[];
  if (entries.length === 0) return undefined;
  const units: Units = { read: 0, write: 0 };
  for (const entry of entries) {
    const read = typeof entry.ReadCapacityUnits === "number" ? entry.ReadCapacityUnits : undefined;
    const write = typeof entry.WriteCapacityUnits === "number" ? entry.WriteCapacityUnits : undefined;
    if (read !== undefined || write !== undefined) {
      units.read += read ?? 0;
      units.write += write ?? 0;
    } else if (typeof entry.CapacityUnits === "number") {
      if (READ_OPERATIONS.has(operation)) units.read += entry.CapacityUnits;
      else units.write += entry.CapacityUnits;
    }
  }
  return units;
}

/** The top-level attribute names an update expression sets, removes, adds to or deletes from. */
export function updatedAttributes(expression: string, names: Record<string, string> = {}): string[] {
  const attributes = new Set<string>();
  const clauses = expression.split(/\b(SET|REMOVE|ADD|DELETE)\b/i);
  for (let i = 1; i < clauses.length; i += 2) {
    const action = clauses[i]!.toUpperCase();
    let depth = 0;
    let start = 0;
    const body = clauses[i + 1] ?? "";
    const parts: string[] = [];
    for (let k = 0; k <= body.length; k++) {
      const ch = body[k];
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
      else if ((ch === "," && depth === 0) || k === body.length) {
        parts.push(body.slice(start, k));
        start = k + 1;
      }
    }
    for (const part of parts) {
      const target = (action === "SET" ? part.split("=")[0] : part.trim().split(/\s+/)[0]) ?? "";
      const first = target.trim().split(/[.[]/)[0] ?? "";
      if (first) attributes.add(names[first] ?? first);
    }
  }
  return [...attributes];
}

const indexKeys = (index: IndexSchema) => [index.hashKey, ...(index.rangeKey ? [index.rangeKey] : [])];

function projects(index: IndexSchema, attribute: string, table: TableSchema): boolean {
  if (index.projection === "ALL") return true;
  if (attribute === table.hashKey || attribute === table.rangeKey || indexKeys(index).includes(attribute))
    return true;
  return index.projection === "INCLUDE" && index.nonKeyAttributes.includes(attribute);
}

/** Index writes of putting `item` (a new item: an overwrite's old entries are not visible). */
function putIndexWrites(item: Record<string, unknown>, table: TableSchema): number {
  return table.indexes.filter((index) => indexKeys(index).every((key) => item[key] !== undefined)).length;
}

/** Index writes of an update that touches `attributes`: 2 per moved entry, 1 per rewritten one. */
function updateIndexWrites(attributes: string[], table: TableSchema): number {
  let writes = 0;
  for (const index of table.indexes) {
    if (attributes.some((attribute) => indexKeys(index).includes(attribute))) writes += 2;
    else if (attributes.some((attribute) => projects(index, attribute, table))) writes += 1;
  }
  return writes;
}

interface WriteRequest {
  kind: "Put" | "Update" | "Delete" | "ConditionCheck";
  table: string;
  input: Record<string, unknown>;
  /** The item's attributes returned by ReturnValues, if any. */
  returned?: Record<string, unknown> | undefined;
}

function writeRequestUnits(
  request: WriteRequest,
  form: ItemForm,
  tables: TableSchemas | undefined,
  failed: boolean,
): RuleUnits {
  const schema = tables?.get(request.table);
  const returnedSize = itemSize(request.returned, form);
  let size: number;
  let indexWrites = 0;
  let sizeNotVisible = 0;
  switch (request.kind) {
    case "Put": {
      const item = (request.input.Item ?? {}) as Record<string, unknown>;
      size = Math.max(itemSize(item, form), returnedSize);
      if (schema) indexWrites = putIndexWrites(item, schema);
      break;
    }
    case "Update": {
      const values = (request.input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
      const attributes = updatedAttributes(
        String(request.input.UpdateExpression ?? ""),
        (request.input.ExpressionAttributeNames ?? {}) as Record<string, string>,
      );
      const written =
        itemSize((request.input.Key ?? {}) as Record<string, unknown>, form) +
        attributes.reduce((sum, name) => sum + utf8(name), 0) +
        Object.values(values).reduce<number>(
          (sum, value) =>
            sum +
            (form === "marshalled"
              ? attributeValueSize(value as Record<string, unknown>)
              : nativeValueSize(value)),
          0,
        );
      size = Math.max(written, returnedSize);
      if (schema) indexWrites = updateIndexWrites(attributes, schema);
      sizeNotVisible = 1;
      break;
    }
    case "Delete":
      size = Math.max(itemSize((request.input.Key ?? {}) as Record<string, unknown>, form), returnedSize);
      if (schema) indexWrites = schema.indexes.length;
      sizeNotVisible = request.returned ? 0 : 1;
      break;
    default:
      size = itemSize((request.input.Key ?? {}) as Record<string, unknown>, form);
      sizeNotVisible = 1;
  }
  return {
    read: 0,
    write: writeUnits(size) + (failed || request.kind === "ConditionCheck" ? 0 : indexWrites),
    sizeNotVisible,
    indexesUnknown: !schema && request.kind !== "ConditionCheck" ? 1 : 0,
  };
}

const addRule = (a: RuleUnits, b: RuleUnits, factor = 1): RuleUnits => ({
  read: a.read + b.read * factor,
  write: a.write + b.write * factor,
  sizeNotVisible: Math.max(a.sizeNotVisible, b.sizeNotVisible),
  indexesUnknown: Math.max(a.indexesUnknown, b.indexesUnknown),
});

const none = (): RuleUnits => ({ read: 0, write: 0, sizeNotVisible: 0, indexesUnknown: 0 });

type Item = Record<string, unknown>;

function batchWriteUnits(requestItems: unknown, form: ItemForm, tables: TableSchemas | undefined): RuleUnits {
  let units = none();
  for (const [table, requests] of Object.entries((requestItems ?? {}) as Record<string, Item[]>)) {
    for (const request of requests) {
      const put = request.PutRequest as Item | undefined;
      const input = (put ?? request.DeleteRequest ?? {}) as Item;
      units = addRule(
        units,
        writeRequestUnits({ kind: put ? "Put" : "Delete", table, input }, form, tables, false),
      );
    }
  }
  return units;
}

/**
 * The units of one DynamoDB request by the documented rules (see the module header), from its
 * input and its output (empty when it failed). `failed` is true for a ConditionalCheckFailed
 * or a cancelled transaction: its table units are still charged. Other failures cost nothing.
 */
export function unitsByRule(
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
  form: ItemForm,
  tables?: TableSchemas,
  failed = false,
): RuleUnits {
  const table = String(input.TableName ?? "");
  const readFactor = input.ConsistentRead === true ? 1 : 0.5;
  switch (operation) {
    case "GetItem":
      return { ...none(), read: readBlocks(itemSize(output.Item as Item | undefined, form)) * readFactor };
    case "Query":
    case "Scan": {
      const items = (output.Items ?? []) as Item[];
      let bytes = items.reduce((sum, item) => sum + itemSize(item, form), 0);
      const scanned = typeof output.ScannedCount === "number" ? output.ScannedCount : items.length;
      // Filtered-out items are read too: taken at the returned items' mean size (none: unseen).
      const unseen = scanned > items.length;
      if (unseen && items.length > 0) bytes = (bytes / items.length) * scanned;
      return {
        ...none(),
        read: readBlocks(bytes) * readFactor,
        sizeNotVisible:
          unseen || input.Select === "COUNT" || input.ProjectionExpression !== undefined ? 1 : 0,
      };
    }
    case "BatchGetItem": {
      let units = none();
      const requested = (input.RequestItems ?? {}) as Record<
        string,
        { Keys?: unknown[]; ConsistentRead?: boolean }
      >;
      const responses = (output.Responses ?? {}) as Record<string, Item[]>;
      const unprocessed = (output.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
      for (const [name, request] of Object.entries(requested)) {
        const factor = request.ConsistentRead === true ? 1 : 0.5;
        const found = responses[name] ?? [];
        // A key not found still costs the least read; an unprocessed one costs nothing.
        const missing = Math.max(
          0,
          (request.Keys?.length ?? 0) - (unprocessed[name]?.Keys?.length ?? 0) - found.length,
        );
        const read =
          (found.reduce((sum, item) => sum + readBlocks(itemSize(item, form)), 0) + missing) * factor;
        units = addRule(units, { ...none(), read });
      }
      return units;
    }
    case "TransactGetItems": {
      const responses = (output.Responses ?? []) as { Item?: Item }[];
      const requested = (input.TransactItems ?? []) as unknown[];
      const read = requested.reduce<number>(
        (sum, _, i) => sum + readBlocks(itemSize(responses[i]?.Item, form)) * 2,
        0,
      );
      return { ...none(), read };
    }
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem":
      return writeRequestUnits(
        {
          kind: operation === "PutItem" ? "Put" : operation === "UpdateItem" ? "Update" : "Delete",
          table,
          input,
          returned: output.Attributes as Item | undefined,
        },
        form,
        tables,
        failed,
      );
    case "BatchWriteItem": {
      // What was asked, less what came back unprocessed (it costs nothing until it is sent again).
      const requested = batchWriteUnits(input.RequestItems, form, tables);
      const unprocessed = batchWriteUnits(output.UnprocessedItems, form, tables);
      return { ...requested, write: requested.write - unprocessed.write };
    }
    case "TransactWriteItems": {
      let units = none();
      for (const entry of (input.TransactItems ?? []) as Item[]) {
        const [kind, request] = Object.entries(entry)[0] ?? [];
        if (!request) continue;
        const body = request as Item;
        units = addRule(
          units,
          writeRequestUnits(
            { kind: kind as WriteRequest["kind"], table: String(body.TableName ?? ""), input: body },
            form,
            tables,
            failed,
          ),
          2,
        );
      }
      return units;
    }
    default:
      return none();
  }
}
