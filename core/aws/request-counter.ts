/**
 * @module aws/request-counter
 * Counts AWS requests per service and operation, and the items DynamoDB reads return, through
 * SDK middleware (for benchmarks). Each HTTP attempt counts, retries included.
 *
 * It also counts what the requests are billed as: SNS and SQS requests per 64 KB chunk, S3
 * requests by price class (pricing/billed-requests.ts), and DynamoDB request units. For those it
 * asks every DynamoDB request that accepts it for `ReturnConsumedCapacity: "TOTAL"` and sums what
 * the responses report, beside the units DynamoDB's rules give for the sizes seen
 * (pricing/dynamodb-units.ts), so that a response that reports nothing is still counted, and
 * said to be. The callers see the response they would see without the plugin: the capacity it
 * asked for is taken out again.
 */
import { s3BilledKey, snsBilledRequests, sqsBilledRequests } from "../pricing/billed-requests.ts";
import {
  CAPACITY_OPERATIONS,
  type ItemForm,
  reportedUnits,
  type TableSchemas,
  type Units,
  unitsByRule,
} from "../pricing/dynamodb-units.ts";
import type { AnyClient } from "./clients.ts";

/** One DynamoDB operation's request units, as reported and by rule. */
export interface CapacityCount {
  /** Units the responses' ConsumedCapacity reported, and how many responses reported any. */
  reported: Units;
  reportedRequests: number;
  /** Units by DynamoDB's rules from the sizes seen, for every request. */
  byRule: Units;
  /** Units by rule of only the requests whose response reported none (failures among them). */
  byRuleUnreported: Units;
  /** Requests whose item size (or index membership) was partly not visible: counted at their least. */
  sizeNotVisible: number;
  /** Writes to tables whose indexes the plugin was not given: their index writes are not counted. */
  indexesUnknown: number;
}

export interface RequestCounts {
  /** "DynamoDB.Query" → requests. */
  requests: Record<string, number>;
  /** DynamoDB items returned by GetItem, BatchGetItem, Query and Scan. */
  itemsRead: number;
  /** SNS, SQS, S3 and other requests as billed ("SNS.PublishBatch" → 10 for one batch of 10). */
  billed?: Record<string, number>;
  /** "DynamoDB.GetItem" → its request units. */
  capacity?: Record<string, CapacityCount>;
}

export function newCounts(): RequestCounts {
  return { requests: {}, itemsRead: 0, billed: {}, capacity: {} };
}

/** Empties `counts` in place (the plugin keeps adding to the same object). */
export function resetCounts(counts: RequestCounts): void {
  counts.requests = {};
  counts.itemsRead = 0;
  counts.billed = {};
  counts.capacity = {};
}

const noUnits = (): Units => ({ read: 0, write: 0 });

export function newCapacityCount(): CapacityCount {
  return {
    reported: noUnits(),
    reportedRequests: 0,
    byRule: noUnits(),
    byRuleUnreported: noUnits(),
    sizeNotVisible: 0,
    indexesUnknown: 0,
  };
}

const addUnits = (a: Units, b: Units): void => {
  a.read += b.read;
  a.write += b.write;
};

/** Adds capacity `b` into `a`. */
function addCapacity(a: CapacityCount, b: CapacityCount): void {
  addUnits(a.reported, b.reported);
  a.reportedRequests += b.reportedRequests;
  addUnits(a.byRule, b.byRule);
  addUnits(a.byRuleUnreported, b.byRuleUnreported);
  a.sizeNotVisible += b.sizeNotVisible;
  a.indexesUnknown += b.indexesUnknown;
}

export interface CountingOptions {
  /** The tables' indexes, for the index writes the rules count (filled in before the first write). */
  tables?: TableSchemas;
}

const CONDITION_FAILURES = new Set(["ConditionalCheckFailedException", "TransactionCanceledException"]);

/** What one SNS, SQS or S3 call is billed as: key and billed requests. */
function billedRequest(
  service: string,
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
): [string, number] {
  if (service === "SNS") return [`SNS.${operation}`, snsBilledRequests(operation, input)];
  if (service === "SQS") return [`SQS.${operation}`, sqsBilledRequests(operation, input, output)];
  if (service === "S3") return [s3BilledKey(operation, input), 1];
  return [`${service}.${operation}`, 1];
}

function countCapacity(
  counts: RequestCounts,
  key: string,
  operation: string,
  request: { input: Record<string, unknown>; output: Record<string, unknown>; failed: boolean },
  form: ItemForm,
  tables: TableSchemas | undefined,
): void {
  counts.capacity ??= {};
  const count = counts.capacity[key] ?? newCapacityCount();
  counts.capacity[key] = count;
  const reported = request.failed ? undefined : reportedUnits(operation, request.output);
  const rule = unitsByRule(operation, request.input, request.output, form, tables, request.failed);
  addUnits(count.byRule, rule);
  if (reported) {
    addUnits(count.reported, reported);
    count.reportedRequests += 1;
  } else {
    addUnits(count.byRuleUnreported, rule);
  }
  count.sizeNotVisible += rule.sizeNotVisible;
  count.indexesUnknown += rule.indexesUnknown;
}

function itemsIn(output: Record<string, unknown>): number {
  if (typeof output.Count === "number") return output.Count;
  if (output.Item) return 1;
  if (output.Responses && typeof output.Responses === "object") {
    return Object.values(output.Responses as Record<string, unknown[]>).reduce(
      (sum, items) => sum + items.length,
      0,
    );
  }
  return 0;
}

/** A client plugin (see useClientPlugin) that adds every request of `client` to `counts`. */
export function countingPlugin(counts: RequestCounts, options: CountingOptions = {}) {
  return (client: AnyClient, service: string): void => {
    (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
      (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string; __aws_sdk_context?: { features?: Record<string, string> } },
      ) =>
        async (args: { input: Record<string, unknown> }) => {
          const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
          const key = `${service}.${operation}`;
          counts.requests[key] = (counts.requests[key] ?? 0) + 1;
          const input = args.input ?? {};
          const askCapacity =
            service === "DynamoDB" &&
            CAPACITY_OPERATIONS.has(operation) &&
            input.ReturnConsumedCapacity === undefined;
          // The document client marshalls after this step: its items arrive here as plain values.
          const form = (): ItemForm =>
            context.__aws_sdk_context?.features?.DDB_MAPPER ? "native" : "marshalled";
          let result: { output: Record<string, unknown> };
          try {
            result = await next(
              askCapacity ? { ...args, input: { ...input, ReturnConsumedCapacity: "TOTAL" } } : args,
            );
          } catch (error) {
            // A failed condition is still charged; any other failure is not.
            const failed = CONDITION_FAILURES.has((error as Error).name);
            if (service === "DynamoDB" && failed && CAPACITY_OPERATIONS.has(operation))
              countCapacity(counts, key, operation, { input, output: {}, failed }, form(), options.tables);
            throw error;
          }
          const output = result.output ?? {};
          counts.itemsRead += itemsIn(output);
          if (service === "DynamoDB") {
            if (CAPACITY_OPERATIONS.has(operation))
              countCapacity(counts, key, operation, { input, output, failed: false }, form(), options.tables);
          } else {
            const [billedKey, billed] = billedRequest(service, operation, input, output);
            counts.billed ??= {};
            counts.billed[billedKey] = (counts.billed[billedKey] ?? 0) + billed;
          }
          if (!askCapacity || !("ConsumedCapacity" in output)) return result;
          const { ConsumedCapacity: _asked, ...unchanged } = output;
          return { ...result, output: unchanged };
        },
      { step: "initialize", name: "foqusRequestCounter", override: true },
    );
  };
}

export function totalRequests(counts: RequestCounts, filter: (key: string) => boolean = () => true): number {
  return Object.entries(counts.requests)
    .filter(([key]) => filter(key))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** Adds `b` into `a` (`b` may be a count file written without billing figures). */
export function addCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  for (const [key, n] of Object.entries(b.requests)) a.requests[key] = (a.requests[key] ?? 0) + n;
  a.itemsRead += b.itemsRead;
  for (const [key, n] of Object.entries(b.billed ?? {})) {
    a.billed ??= {};
    a.billed[key] = (a.billed[key] ?? 0) + n;
  }
  for (const [key, capacity] of Object.entries(b.capacity ?? {})) {
    a.capacity ??= {};
    const sum = a.capacity[key] ?? newCapacityCount();
    a.capacity[key] = sum;
    addCapacity(sum, capacity);
  }
  return a;
}

/** The counts whose "Service.Operation" key passes `filter` (billed keys by their operation). */
export function filterCounts(counts: RequestCounts, filter: (key: string) => boolean): RequestCounts {
  const pick = <T>(record: Record<string, T> | undefined) =>
    Object.fromEntries(Object.entries(record ?? {}).filter(([key]) => filter(key.replace(/\[.*$/, ""))));
  return {
    requests: pick(counts.requests),
    itemsRead: counts.itemsRead,
    billed: pick(counts.billed),
    capacity: structuredClone(pick(counts.capacity)),
  };
}
