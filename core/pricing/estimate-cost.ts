/**
 * @module pricing/estimate-cost
 * What a session costs on AWS, estimated: how much of each service its jobs used (a usage model
 * from the architecture, per job), priced with core/pricing/prices.json. Two steps, so that the
 * benchmark can price the request counts it measures with the same prices (`priceUsage`):
 *
 * - `sessionUsage(jobs)`: the worker time is measured (each job's Running → Finished, divided
 *   by the jobs a worker runs at once), everything else is counted per job as the system makes
 *   its calls: an append and a start write the job (2 write units each; the append is a
 *   transaction) and a start reads it; a worker's setup and running events and the terminal
 *   transaction (job, finish counter, finish entry: 2 units each) write 8 units; 4 events are
 *   published and delivered to a queue, consumed in batches of 10; one heartbeat read per job
 *   every 5 s; a result-page read per job. Client calls (appends of 20, start after each, a
 *   page per 500) come to about 0.11 API requests per job. Items are assumed under 1 KB (one
 *   unit); larger inputs and outputs cost more units, which the estimate adds from their sizes.
 * - `priceUsage(usage)`: dollars per service.
 *
 * It leaves out what does not scale with the session: idle worker time (an instance waiting for
 * work, or for scale-in), storage, data transfer, CloudWatch, and free tiers.
 */
import prices from "./prices.json" with { type: "json" };

export type Prices = typeof prices;

/** What a session used, in each service's billing units. */
export interface Usage {
  jobs: number;
  workerHours: number;
  apiRequests: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  snsRequests: number;
  sqsRequests: number;
}

/** One job as the model needs it: its timestamps, and the sizes of its input and output. */
export interface JobUsage {
  Running: string | null;
  Finished: string | null;
  Input: unknown;
  Output: unknown;
}

export interface UsageOptions {
  /** Jobs one worker runs at once (WORKER_CONCURRENCY; default 4). */
  workerConcurrency?: number;
  /** Heartbeat interval in seconds (HEARTBEAT_SECONDS; default 5). */
  heartbeatSeconds?: number;
}

const API_REQUESTS_PER_JOB = 2 / 20 + 2 / 500; // FOQUS: append + start per 20 jobs; close + read per page
const EVENTS_PER_JOB = 4; // submit, setup, running, and success | error | terminate
const EVENT_BATCH = 10; // the update processor's SQS batch, the worker's receive batch
const LAMBDA_SECONDS_PER_INVOCATION = 0.1;
const LAMBDA_GB = 0.5;
/** Write units per job when every item is under 1 KB (see the module header). */
const BASE_WRITE_UNITS = 2 + 1 + 2 + 6;
const BASE_READ_UNITS = 1 + 1;

const kilobytes = (value: unknown): number =>
  value === null || value === undefined ? 0 : Math.ceil(Buffer.byteLength(JSON.stringify(value)) / 1024);

/** The usage of a session's jobs. */
export function sessionUsage(jobs: JobUsage[], options: UsageOptions = {}): Usage {
  const concurrency = options.workerConcurrency ?? 4;
  const heartbeat = options.heartbeatSeconds ?? 5;
  let runSeconds = 0;
  let writeUnits = 0;
  let readUnits = 0;
  for (const job of jobs) {
    const seconds =
      job.Running && job.Finished
        ? Math.max(0, (Date.parse(job.Finished) - Date.parse(job.Running)) / 1000)
        : 0;
    runSeconds += seconds;
    // An item larger than 1 KB costs one more unit per KB on every write of it.
    const itemKb = Math.max(1, kilobytes(job.Input) + kilobytes(job.Output));
    writeUnits += BASE_WRITE_UNITS + (itemKb - 1) * 4;
    readUnits += BASE_READ_UNITS + Math.ceil(itemKb / 4) - 1 + Math.floor(seconds / heartbeat);
  }
  const n = jobs.length;
  const apiRequests = n * API_REQUESTS_PER_JOB;
  const processorInvocations = (n * EVENTS_PER_JOB) / EVENT_BATCH;
  // Every API request runs its function and, on an authorizer cache miss, the authorizer too.
  const lambdaRequests = apiRequests * 2 + processorInvocations;
  return {
    jobs: n,
    workerHours: runSeconds / concurrency / 3600,
    apiRequests,
    lambdaRequests,
    lambdaGbSeconds: lambdaRequests * LAMBDA_SECONDS_PER_INVOCATION * LAMBDA_GB,
    dynamodbWriteUnits: writeUnits,
    dynamodbReadUnits: readUnits,
    snsRequests: n * EVENTS_PER_JOB,
    // Deliveries to the job and update queues, then receives and deletes in batches.
    sqsRequests: n * (1 + EVENTS_PER_JOB) + (n * 2 * 2) / EVENT_BATCH,
  };
}

export interface PriceOptions {
  instanceType?: string;
  os?: "linux" | "windows";
  architecture?: "arm64" | "x86_64";
}

export interface CostLine {
  service: string;
  usage: string;
  dollars: number;
}

export interface CostEstimate {
  lines: CostLine[];
  total: number;
  region: string;
  currency: string;
  checked: string;
}

/** Dollars per service for `usage`; an instance type without a listed price is an error. */
export function priceUsage(usage: Usage, options: PriceOptions = {}, table: Prices = prices): CostEstimate {
  const s = table.services;
  const instanceType = options.instanceType ?? "t3.medium";
  const hourly = (options.os === "windows" ? s.ec2.windowsHourly : s.ec2.linuxHourly) as Record<
    string,
    number
  >;
  const instancePrice = hourly[instanceType];
  if (instancePrice === undefined) {
    throw new Error(
      `No ${options.os ?? "linux"} price for ${instanceType} in core/pricing/prices.json; use one of ${Object.keys(hourly).join(", ")} or add it.`,
    );
  }
  const perMillion = (count: number, price: number) => (count / 1e6) * price;
  const lines: CostLine[] = [
    {
      service: `EC2 workers (${instanceType})`,
      usage: `${usage.workerHours.toFixed(3)} instance-hours`,
      dollars: usage.workerHours * instancePrice,
    },
    {
      service: "DynamoDB",
      usage: `${Math.round(usage.dynamodbWriteUnits)} write + ${Math.round(usage.dynamodbReadUnits)} read units`,
      dollars:
        perMillion(usage.dynamodbWriteUnits, s.dynamodb.writeRequestUnitPerMillion) +
        perMillion(usage.dynamodbReadUnits, s.dynamodb.readRequestUnitPerMillion),
    },
    {
      service: "SNS",
      usage: `${Math.round(usage.snsRequests)} publishes`,
      dollars: perMillion(usage.snsRequests, s.sns.requestPerMillion),
    },
    {
      service: "SQS",
      usage: `${Math.round(usage.sqsRequests)} requests`,
      dollars: perMillion(usage.sqsRequests, s.sqs.requestPerMillion),
    },
    {
      service: "Lambda",
      usage: `${Math.round(usage.lambdaRequests)} invocations, ${usage.lambdaGbSeconds.toFixed(1)} GB-s`,
      dollars:
        perMillion(usage.lambdaRequests, s.lambda.requestPerMillion) +
        usage.lambdaGbSeconds * s.lambda.gbSecond[options.architecture ?? "arm64"],
    },
    {
      service: "API Gateway",
      usage: `${Math.round(usage.apiRequests)} requests`,
      dollars: perMillion(usage.apiRequests, s.apiGateway.requestPerMillion),
    },
  ];
  return {
    lines,
    total: lines.reduce((sum, line) => sum + line.dollars, 0),
    region: table.region,
    currency: table.currency,
    checked: table.checked,
  };
}
