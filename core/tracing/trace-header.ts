/**
 * @module tracing/trace-header
 * The X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`) that events carry from the API to the
 * worker. In Lambda the runtime sets `_X_AMZN_TRACE_ID` for each invocation: an event made there
 * carries it (events/event-publisher.ts newEvent), the start call writes it on the jobs it claims
 * so that the submit publisher passes it on, and the worker logs it with each job and parents its
 * own segment on it (worker/xray-segments.ts).
 */

export interface TraceContext {
  /** `1-<8 hex>-<24 hex>`. */
  root: string;
  /** The segment (or subsegment) id this one continues, 16 hex. */
  parent?: string;
  /** false when the header says `Sampled=0`: nothing of the trace is recorded. */
  sampled: boolean;
}

const ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const SEGMENT_ID = /^[0-9a-f]{16}$/;

/** The current invocation's trace header, if the runtime gave one. */
export function currentTraceHeader(): string | undefined {
  const header = process.env._X_AMZN_TRACE_ID;
  return header && parseTraceHeader(header) ? header : undefined;
}

/** The header's parts, or undefined when it has no valid Root. Unknown keys are ignored. */
export function parseTraceHeader(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const parts = new Map(
    header.split(";").map((part) => {
      const [key = "", value = ""] = part.trim().split("=");
      return [key, value] as const;
    }),
  );
  const root = parts.get("Root");
  if (!root || !ROOT.test(root)) return undefined;
  const parent = parts.get("Parent");
  return {
    root,
    ...(parent && SEGMENT_ID.test(parent) ? { parent } : {}),
    sampled: parts.get("Sampled") !== "0",
  };
}
