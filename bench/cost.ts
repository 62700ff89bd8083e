/**
 * @module bench/cost
 * The benchmark's cost figures: its counted requests, request units and Lambda invocations as
 * dollars per 1,000 jobs by service (core/pricing/price-requests.ts), the same estimate for the
 * upstream FOQUS Cloud's operation mix (with the assumptions it needs, named), and the EC2 worker
 * time kept apart (dollars per worker-hour, the engine's busy fraction).
 */
import type { CapacityCount, RequestCounts } from "../core/aws/request-counter.ts";
import { apiGatewayBilledRequests } from "../core/pricing/billed-requests.ts";
import {
  type BillableUsage,
  type LambdaUsage,
  PRICED_SERVICES,
  type PricedService,
  per1000Jobs,
  priceBillableUsage,
  workerHourPrice,
} from "../core/pricing/price-requests.ts";
import prices from "../core/pricing/prices.json" with { type: "json" };
import type { Invocation } from "../local/runtime/lambda-context.ts";

/** Which DynamoDB units are priced: the responses' ConsumedCapacity, or DynamoDB's rules from item sizes. */
export type UnitsFrom = "consumed-capacity" | "item-size-rules";

export interface OperationUnits {
  read: number;
  write: number;
  unitsSource: string;
}

export interface DynamodbUnits {
  read: number;
  write: number;
  byOperation: Record<string, OperationUnits>;
  /** Both ways, whatever is priced: what the responses reported, and what the rules give. */
  consumedCapacityReported: { read: number; write: number; requestsReporting: number; requests: number };
  byItemSizeRules: { read: number; write: number; sizeNotVisible: number; indexesUnknown: number };
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/**
 * The DynamoDB units to price. With "consumed-capacity", each operation's reported units, plus
 * the rules' units for the requests whose response reported none ("unitsSource" says which).
 */
export function dynamodbUnits(
  capacity: Record<string, CapacityCount>,
  requests: Record<string, number>,
  unitsFrom: UnitsFrom,
  reason: string,
): DynamodbUnits {
  const byOperation: Record<string, OperationUnits> = {};
  const reported = { read: 0, write: 0, requestsReporting: 0, requests: 0 };
  const rules = { read: 0, write: 0, sizeNotVisible: 0, indexesUnknown: 0 };
  for (const [key, c] of Object.entries(capacity)) {
    const n = requests[key] ?? 0;
    reported.read += c.reported.read;
    reported.write += c.reported.write;
    reported.requestsReporting += c.reportedRequests;
    reported.requests += n;
    rules.read += c.byRule.read;
    rules.write += c.byRule.write;
    rules.sizeNotVisible += c.sizeNotVisible;
    rules.indexesUnknown += c.indexesUnknown;
    if (unitsFrom === "item-size-rules") {
      byOperation[key] = {
        read: c.byRule.read,
        write: c.byRule.write,
        unitsSource: `item-size rules: ${reason}`,
      };
    } else {
      const unreported = n - c.reportedRequests;
      byOperation[key] = {
        read: c.reported.read + c.byRuleUnreported.read,
        write: c.reported.write + c.byRuleUnreported.write,
        unitsSource:
          unreported === 0
            ? "consumed capacity"
            : c.reportedRequests === 0
              ? "item-size rules: the responses carried no ConsumedCapacity"
              : `consumed capacity; item-size rules for the ${unreported} of ${n} responses without it`,
      };
    }
  }
  const sum = (field: "read" | "write") => Object.values(byOperation).reduce((s, u) => s + u[field], 0);
  return {
    read: sum("read"),
    write: sum("write"),
    byOperation,
    consumedCapacityReported: reported,
    byItemSizeRules: rules,
  };
}

/** What the benchmark keeps of one invocation. */
export interface InvocationRecord {
  functionName: string;
  durationMs: number;
  /** For an API request (a payload 2.0 HTTP event, not the authorizer's): the larger of its request and response bodies. */
  apiBytes?: number;
}

export function invocationRecord(invocation: Invocation): InvocationRecord {
  const http = (invocation.event as { requestContext?: { http?: unknown } } | undefined)?.requestContext
    ?.http;
  if (invocation.functionName === "authorizer" || typeof http !== "object")
    return { functionName: invocation.functionName, durationMs: invocation.durationMs };
  const requestBytes = Buffer.byteLength(String((invocation.event as { body?: string }).body ?? ""));
  const responseBytes = Buffer.byteLength(
    String((invocation.result as { body?: string } | undefined)?.body ?? ""),
  );
  return {
    functionName: invocation.functionName,
    durationMs: invocation.durationMs,
    apiBytes: Math.max(requestBytes, responseBytes),
  };
}

/** Function name → invocations, billed duration and configuration (memory from the Terraform state). */
export function lambdaUsage(
  invocations: InvocationRecord[],
  functions: Record<string, { memoryMb: number; architecture: "arm64" | "x86_64" }>,
): Record<string, LambdaUsage & { meanMs: number }> {
  const rounding = prices.services.lambda.durationRoundingMs;
  const usage: Record<string, LambdaUsage & { meanMs: number }> = {};
  for (const invocation of invocations) {
    const config = functions[invocation.functionName];
    if (!config)
      throw new Error(`No configuration for function "${invocation.functionName}" in the Terraform state.`);
    const entry = usage[invocation.functionName] ?? { invocations: 0, billedMs: 0, meanMs: 0, ...config };
    usage[invocation.functionName] = entry;
    entry.invocations += 1;
    entry.billedMs += Math.ceil(invocation.durationMs / rounding) * rounding;
  }
  for (const entry of Object.values(usage)) entry.meanMs = round(entry.billedMs / entry.invocations, 1);
  return usage;
}

/** API Gateway requests as billed: one per HTTP function invocation, per 512 KB of its request or response. */
export function apiRequests(invocations: InvocationRecord[]): number {
  return invocations.reduce(
    (sum, invocation) =>
      invocation.apiBytes === undefined ? sum : sum + apiGatewayBilledRequests(invocation.apiBytes),
    0,
  );
}

export interface CostLine {
  dollars: number;
  usage: string;
}

export interface CostPer1000Jobs {
  byService: Record<PricedService, CostLine>;
  total: number;
  /** The total without Lambda, whose durations the emulator cannot give: what is judged. */
  totalWithoutLambda: number;
  unpriced: string[];
}

function per1000(usage: BillableUsage, jobs: number): CostPer1000Jobs {
  const priced = priceBillableUsage(per1000Jobs(usage, jobs));
  const byService = Object.fromEntries(
    PRICED_SERVICES.map((service) => [
      service,
      { dollars: round(priced.byService[service].dollars, 6), usage: priced.byService[service].usage },
    ]),
  ) as Record<PricedService, CostLine>;
  return {
    byService,
    total: round(priced.total, 6),
    totalWithoutLambda: round(priced.total - priced.byService.Lambda.dollars, 6),
    unpriced: priced.unpriced,
  };
}

/** This system's measured usage over `jobs`, per 1,000 jobs. */
export function measuredCost(
  counts: RequestCounts,
  units: DynamodbUnits,
  lambda: Record<string, LambdaUsage>,
  api: number,
  jobs: number,
): CostPer1000Jobs {
  return per1000(
    {
      billedRequests: counts.billed ?? {},
      dynamodbReadUnits: units.read,
      dynamodbWriteUnits: units.write,
      lambda,
      apiRequests: api,
    },
    jobs,
  );
}

/**
 * The upstream FOQUS Cloud's operation mix: requests a job from the research figures (issue
 * 13, measured on the same emulator), with what pricing them needs and they do not say, named.
 */
export const UPSTREAM_MIX = {
  perJob: { sns: 17.2, dynamodb: 15.2, s3: 10.2, sqs: 2, cloudwatchPutMetricData: 2, lambdaInvocations: 6 },
  assumptions: {
    sns: "each publish one message under 64 KB: one billed request",
    sqs: "each request under 64 KB: one billed request",
    dynamodb:
      "half the requests writes of one write unit (items under 1 KB, no index), half eventually consistent reads of 0.5 read units",
    s3: "half the requests PUT/COPY/POST/LIST, half GET, all S3 Standard",
    lambda:
      "each invocation 100 ms at 128 MB on x86_64 (Lambda's least memory: the cheapest case for upstream)",
    apiGateway:
      "the same API requests a job as measured here (the same client's calls), at the HTTP API price",
  },
  writeShare: 0.5,
  readUnitsPerRead: 0.5,
  s3PutShare: 0.5,
  lambda: { durationMs: 100, memoryMb: 128, architecture: "x86_64" as const },
};

/** Upstream's mix priced the same way, per 1,000 jobs; `apiRequestsPerJob` from this run. */
export function upstreamCost(
  apiRequestsPerJob: number,
): CostPer1000Jobs & { perJob: typeof UPSTREAM_MIX.perJob; assumptions: Record<string, string> } {
  const m = UPSTREAM_MIX;
  const j = m.perJob;
  const usage: BillableUsage = {
    billedRequests: {
      "SNS.Publish": j.sns,
      "SQS.SendMessage": j.sqs,
      "S3.PutObject": j.s3 * m.s3PutShare,
      "S3.GetObject": j.s3 * (1 - m.s3PutShare),
      "CloudWatch.PutMetricData": j.cloudwatchPutMetricData,
    },
    dynamodbWriteUnits: j.dynamodb * m.writeShare,
    dynamodbReadUnits: j.dynamodb * (1 - m.writeShare) * m.readUnitsPerRead,
    lambda: {
      upstream: {
        invocations: j.lambdaInvocations,
        billedMs: j.lambdaInvocations * m.lambda.durationMs,
        memoryMb: m.lambda.memoryMb,
        architecture: m.lambda.architecture,
      },
    },
    apiRequests: apiRequestsPerJob,
  };
  return { ...per1000(usage, 1), perJob: j, assumptions: m.assumptions };
}

export interface WorkerTime {
  instanceType: string;
  dollarsPerWorkerHour: number;
  /** Σ (Finished − Running) ÷ (lifecycle wall time × concurrency). */
  engineBusyFraction: number;
  engineBusySeconds: number;
  wallSeconds: number;
  concurrency: number;
  note: string;
}

/** The EC2 side: the pool's hourly price and how busy the engine slots were during the lifecycle. */
export function workerTime(
  records: { Running: string | null; Finished: string | null }[],
  wallSeconds: number,
  concurrency: number,
  instanceType: string,
): WorkerTime {
  const busySeconds = records.reduce(
    (sum, r) =>
      r.Running && r.Finished
        ? sum + Math.max(0, (Date.parse(r.Finished) - Date.parse(r.Running)) / 1000)
        : sum,
    0,
  );
  return {
    instanceType,
    dollarsPerWorkerHour: workerHourPrice(instanceType),
    engineBusyFraction: round(busySeconds / (wallSeconds * concurrency), 4),
    engineBusySeconds: round(busySeconds, 3),
    wallSeconds,
    concurrency,
    note: "kept apart from the dollars per 1,000 jobs: the fake engine does no work, so the fraction measures the pipeline, not a solver",
  };
}
