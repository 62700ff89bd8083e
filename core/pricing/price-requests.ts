/**
 * @module pricing/price-requests
 * Dollars by service for usage counted in billing units (billed requests, request units,
 * invocations and their durations), priced with core/pricing/prices.json: what `make bench`
 * turns its counts into, for this system and for upstream's operation mix alike. EC2 is not
 * here: worker time is priced apart, per worker-hour (`workerHourPrice`).
 */
import { type S3RequestClass, s3RequestClass } from "./billed-requests.ts";
import prices from "./prices.json" with { type: "json" };

export type Prices = typeof prices;

/** One function's invocations, their billed duration and its configuration. */
export interface LambdaUsage {
  invocations: number;
  /** The sum of each invocation's duration, each rounded up to the billing granularity. */
  billedMs: number;
  memoryMb: number;
  architecture: "arm64" | "x86_64";
}

/** Usage in billing units. */
export interface BillableUsage {
  /** Billed requests by "Service.Operation" key (SNS, SQS, S3, CloudWatch; see billed-requests.ts). */
  billedRequests: Record<string, number>;
  dynamodbReadUnits: number;
  dynamodbWriteUnits: number;
  /** Function name → its invocations. */
  lambda: Record<string, LambdaUsage>;
  /** API Gateway requests as billed (each 512 KB one). */
  apiRequests: number;
}

export const PRICED_SERVICES = [
  "DynamoDB",
  "SNS",
  "SQS",
  "S3",
  "Lambda",
  "API Gateway",
  "CloudWatch",
] as const;
export type PricedService = (typeof PRICED_SERVICES)[number];

export interface ServicePrice {
  dollars: number;
  /** The billing units priced, in words. */
  usage: string;
}

export interface PricedUsage {
  byService: Record<PricedService, ServicePrice>;
  total: number;
  /** Billed-request keys of services with no price here (e.g. Scheduler API calls): not in the total. */
  unpriced: string[];
}

type ArchiveClass = keyof Prices["services"]["s3"]["archiveClasses"];

/** The price of one S3 request counted under `key` ("S3.PutObject", "S3.CopyObject[GLACIER]", …). */
export function s3RequestPrice(key: string, table: Prices = prices, archiveClass: ArchiveClass = "GLACIER") {
  const match = /^S3\.([A-Za-z0-9]+)(?:\[([A-Za-z_]+)\])?$/.exec(key);
  if (!match) throw new Error(`"${key}" is not an S3 request key (S3.<Operation>[<class or tier>]).`);
  const [, operation = "", qualifier] = match;
  const s3 = table.services.s3;
  const requestClass: S3RequestClass = s3RequestClass(operation);
  if (requestClass === "free") return 0;
  if (requestClass === "restore") {
    const restore = s3.archiveClasses[archiveClass].restorePerThousand as Record<string, number>;
    const price = restore[qualifier ?? "Standard"];
    if (price === undefined)
      throw new Error(`No ${qualifier} restore price for ${archiveClass} in prices.json.`);
    return price / 1000;
  }
  const classPrices =
    qualifier && qualifier in s3.archiveClasses ? s3.archiveClasses[qualifier as ArchiveClass] : s3;
  return (requestClass === "put" ? classPrices.putPerThousand : classPrices.getPerThousand) / 1000;
}

const perMillion = (count: number, price: number) => (count / 1e6) * price;
const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** Dollars per service for `usage`. */
export function priceBillableUsage(
  usage: BillableUsage,
  options: { archiveClass?: ArchiveClass } = {},
  table: Prices = prices,
): PricedUsage {
  const s = table.services;
  const requests = (service: string) =>
    Object.entries(usage.billedRequests).filter(([key]) => key.startsWith(`${service}.`));
  const sum = (entries: [string, number][]) => entries.reduce((total, [, n]) => total + n, 0);

  const s3 = requests("S3");
  const s3Dollars = s3.reduce(
    (total, [key, n]) => total + n * s3RequestPrice(key, table, options.archiveClass),
    0,
  );
  const cloudwatch = requests("CloudWatch");
  const putMetricData = sum(cloudwatch.filter(([key]) => key === "CloudWatch.PutMetricData"));
  const lambda = Object.values(usage.lambda);
  const invocations = lambda.reduce((total, f) => total + f.invocations, 0);
  const gbSeconds = (arch: LambdaUsage["architecture"]) =>
    lambda
      .filter((f) => f.architecture === arch)
      .reduce((total, f) => total + (f.memoryMb / 1024) * (f.billedMs / 1000), 0);

  const byService: Record<PricedService, ServicePrice> = {
    DynamoDB: {
      dollars:
        perMillion(usage.dynamodbWriteUnits, s.dynamodb.writeRequestUnitPerMillion) +
        perMillion(usage.dynamodbReadUnits, s.dynamodb.readRequestUnitPerMillion),
      usage: `${round(usage.dynamodbWriteUnits)} write + ${round(usage.dynamodbReadUnits)} read request units`,
    },
    SNS: {
      dollars: perMillion(sum(requests("SNS")), s.sns.requestPerMillion),
      usage: `${round(sum(requests("SNS")))} billed requests (64 KB chunks per message)`,
    },
    SQS: {
      dollars: perMillion(sum(requests("SQS")), s.sqs.requestPerMillion),
      usage: `${round(sum(requests("SQS")))} billed requests (64 KB chunks)`,
    },
    S3: {
      dollars: s3Dollars,
      usage: `${round(sum(s3.filter(([key]) => s3RequestClass(key.slice(3).replace(/\[.*$/, "")) === "put")))} PUT/COPY/POST/LIST + ${round(sum(s3.filter(([key]) => s3RequestClass(key.slice(3).replace(/\[.*$/, "")) !== "put")))} other requests`,
    },
    Lambda: {
      dollars:
        perMillion(invocations, s.lambda.requestPerMillion) +
        gbSeconds("arm64") * s.lambda.gbSecond.arm64 +
        gbSeconds("x86_64") * s.lambda.gbSecond.x86_64,
      usage: `${round(invocations)} invocations, ${round(gbSeconds("arm64") + gbSeconds("x86_64"), 3)} GB-s`,
    },
    "API Gateway": {
      dollars: perMillion(usage.apiRequests, s.apiGateway.requestPerMillion),
      usage: `${round(usage.apiRequests)} HTTP API requests`,
    },
    CloudWatch: {
      dollars: (putMetricData / 1000) * s.cloudwatch.putMetricDataPerThousand,
      usage: `${round(putMetricData)} PutMetricData requests`,
    },
  };
  const known = /^(SNS|SQS|S3|CloudWatch\.PutMetricData|DynamoDB)\b/;
  return {
    byService,
    total: Object.values(byService).reduce((total, line) => total + line.dollars, 0),
    unpriced: Object.keys(usage.billedRequests).filter((key) => !known.test(key)),
  };
}

/** `usage` scaled to `jobs` → per 1,000 jobs. */
export function per1000Jobs(usage: BillableUsage, jobs: number): BillableUsage {
  const k = 1000 / jobs;
  const scale = (record: Record<string, number>) =>
    Object.fromEntries(Object.entries(record).map(([key, n]) => [key, n * k]));
  return {
    billedRequests: scale(usage.billedRequests),
    dynamodbReadUnits: usage.dynamodbReadUnits * k,
    dynamodbWriteUnits: usage.dynamodbWriteUnits * k,
    lambda: Object.fromEntries(
      Object.entries(usage.lambda).map(([name, f]) => [
        name,
        { ...f, invocations: f.invocations * k, billedMs: f.billedMs * k },
      ]),
    ),
    apiRequests: usage.apiRequests * k,
  };
}

/** A worker instance's on-demand price per hour; an instance type without a listed price is an error. */
export function workerHourPrice(
  instanceType: string,
  os: "linux" | "windows" = "linux",
  table: Prices = prices,
) {
  const hourly = (
    os === "windows" ? table.services.ec2.windowsHourly : table.services.ec2.linuxHourly
  ) as Record<string, number>;
  const price = hourly[instanceType];
  if (price === undefined)
    throw new Error(
      `No ${os} price for ${instanceType} in core/pricing/prices.json; use one of ${Object.keys(hourly).join(", ")} or add it.`,
    );
  return price;
}
