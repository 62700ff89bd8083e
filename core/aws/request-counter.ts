/**
 * @module aws/request-counter
 * Counts AWS requests per service and operation, and the items DynamoDB reads return, through
 * SDK middleware (for benchmarks). Each HTTP attempt counts, retries included.
 */
import type { AnyClient } from "./clients.ts";

export interface RequestCounts {
  /** "DynamoDB.Query" → requests. */
  requests: Record<string, number>;
  /** DynamoDB items returned by GetItem, BatchGetItem, Query and Scan. */
  itemsRead: number;
}

export function newCounts(): RequestCounts {
  return { requests: {}, itemsRead: 0 };
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
export function countingPlugin(counts: RequestCounts) {
  return (client: AnyClient, service: string): void => {
    (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
      (
        next: (args: unknown) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) =>
        async (args: unknown) => {
          const key = `${service}.${(context.commandName ?? "Unknown").replace(/Command$/, "")}`;
          counts.requests[key] = (counts.requests[key] ?? 0) + 1;
          const result = await next(args);
          counts.itemsRead += itemsIn(result.output ?? {});
          return result;
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

/** Adds `b` into `a`. */
export function addCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  for (const [key, n] of Object.entries(b.requests)) a.requests[key] = (a.requests[key] ?? 0) + n;
  a.itemsRead += b.itemsRead;
  return a;
}
