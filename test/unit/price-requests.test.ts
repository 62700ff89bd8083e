/**
 * Counted usage as dollars (core/pricing/price-requests.ts) and the benchmark's cost figures
 * built on it (bench/cost.ts, bench/applied-config.ts), all from core/pricing/prices.json.
 */
import test from "ava";
import { appliedConfigFromState } from "../../bench/applied-config.ts";
import {
  apiRequests,
  dynamodbUnits,
  lambdaUsage,
  measuredCost,
  UPSTREAM_MIX,
  upstreamCost,
  workerTime,
} from "../../bench/cost.ts";
import { newCapacityCount, newCounts } from "../../core/aws/request-counter.ts";
import {
  type BillableUsage,
  per1000Jobs,
  priceBillableUsage,
  s3RequestPrice,
  workerHourPrice,
} from "../../core/pricing/price-requests.ts";
import prices from "../../core/pricing/prices.json" with { type: "json" };

const s = prices.services;
const near = (actual: number, expected: number) => Math.abs(actual - expected) < 1e-12;

test("a PublishBatch of 10 is priced as 10 SNS requests", (t) => {
  const usage: BillableUsage = {
    billedRequests: { "SNS.PublishBatch": 10 },
    dynamodbReadUnits: 0,
    dynamodbWriteUnits: 0,
    lambda: {},
    apiRequests: 0,
  };
  const priced = priceBillableUsage(usage);
  t.true(near(priced.byService.SNS.dollars, (10 / 1e6) * s.sns.requestPerMillion));
  t.is(priced.total, priced.byService.SNS.dollars);
});

test("dollars per 1,000 jobs for a known mix, service by service", (t) => {
  // 200 jobs: 400 billed SNS, 100 SQS, 200 S3 PUT + 200 GET, 1,000 write + 400 read units,
  // 40 update-processor invocations of 100 ms at 512 MB (arm64), 22 API requests.
  const usage: BillableUsage = {
    billedRequests: {
      "SNS.PublishBatch": 400,
      "SQS.ReceiveMessage": 100,
      "S3.PutObject": 200,
      "S3.GetObject": 200,
    },
    dynamodbWriteUnits: 1000,
    dynamodbReadUnits: 400,
    lambda: { "update-processor": { invocations: 40, billedMs: 4000, memoryMb: 512, architecture: "arm64" } },
    apiRequests: 22,
  };
  const priced = priceBillableUsage(per1000Jobs(usage, 200));
  t.true(near(priced.byService.SNS.dollars, 2000 * 0.5e-6));
  t.true(near(priced.byService.SQS.dollars, 500 * 0.4e-6));
  t.true(near(priced.byService.S3.dollars, 1000 * 0.005e-3 + 1000 * 0.0004e-3));
  t.true(near(priced.byService.DynamoDB.dollars, 5000 * 0.625e-6 + 2000 * 0.125e-6));
  t.true(near(priced.byService.Lambda.dollars, 200 * 0.2e-6 + 200 * 0.1 * 0.5 * 0.0000133334));
  t.true(near(priced.byService["API Gateway"].dollars, 110 * 1e-6));
  t.true(
    near(
      priced.total,
      Object.values(priced.byService).reduce((sum, line) => sum + line.dollars, 0),
    ),
  );
});

test("S3 requests are priced by class: deletes free, archive writes and restores at their class's price", (t) => {
  t.is(s3RequestPrice("S3.DeleteObject"), 0);
  t.is(s3RequestPrice("S3.PutObject"), s.s3.putPerThousand / 1000);
  t.is(s3RequestPrice("S3.HeadObject"), s.s3.getPerThousand / 1000);
  t.is(s3RequestPrice("S3.ListObjectsV2"), s.s3.putPerThousand / 1000, "a LIST is priced as a PUT");
  t.is(s3RequestPrice("S3.CopyObject[DEEP_ARCHIVE]"), s.s3.archiveClasses.DEEP_ARCHIVE.putPerThousand / 1000);
  t.is(
    s3RequestPrice("S3.RestoreObject[Expedited]"),
    s.s3.archiveClasses.GLACIER.restorePerThousand.Expedited / 1000,
  );
  t.throws(() => s3RequestPrice("S3.RestoreObject[Expedited]", prices, "DEEP_ARCHIVE"), {
    message: /restore price/,
  });
});

test("requests of services without a price are listed, not silently dropped", (t) => {
  const priced = priceBillableUsage({
    billedRequests: { "Scheduler.ListSchedules": 3, "CloudWatch.PutMetricData": 1000 },
    dynamodbReadUnits: 0,
    dynamodbWriteUnits: 0,
    lambda: {},
    apiRequests: 0,
  });
  t.deepEqual(priced.unpriced, ["Scheduler.ListSchedules"]);
  t.true(near(priced.byService.CloudWatch.dollars, s.cloudwatch.putMetricDataPerThousand));
});

test("upstream's mix is priced with its assumptions named", (t) => {
  const upstream = upstreamCost(0.11);
  const j = UPSTREAM_MIX.perJob;
  t.true(
    near(upstream.byService.SNS.dollars, Number(((1000 * j.sns * s.sns.requestPerMillion) / 1e6).toFixed(6))),
  );
  t.true(
    near(
      upstream.byService.CloudWatch.dollars,
      Number(((1000 * j.cloudwatchPutMetricData * s.cloudwatch.putMetricDataPerThousand) / 1000).toFixed(6)),
    ),
  );
  for (const service of ["sns", "sqs", "dynamodb", "s3", "lambda", "apiGateway"])
    t.truthy(upstream.assumptions[service as keyof typeof upstream.assumptions], service);
  t.true(upstream.totalWithoutLambda < upstream.total);
});

test("DynamoDB units say where they come from: consumed capacity, the rules, or both", (t) => {
  const reported = { ...newCapacityCount(), reported: { read: 5, write: 0 }, reportedRequests: 10 };
  reported.byRule = { read: 6, write: 0 };
  const unreported = {
    ...newCapacityCount(),
    byRule: { read: 0, write: 8 },
    byRuleUnreported: { read: 0, write: 8 },
  };
  const capacity = { "DynamoDB.GetItem": reported, "DynamoDB.TransactWriteItems": unreported };
  const requests = { "DynamoDB.GetItem": 10, "DynamoDB.TransactWriteItems": 2 };
  const fromCapacity = dynamodbUnits(capacity, requests, "consumed-capacity", "");
  t.is(fromCapacity.byOperation["DynamoDB.GetItem"]?.unitsSource, "consumed capacity");
  t.regex(fromCapacity.byOperation["DynamoDB.TransactWriteItems"]?.unitsSource ?? "", /no ConsumedCapacity/);
  t.deepEqual([fromCapacity.read, fromCapacity.write], [5, 8]);
  const fromRules = dynamodbUnits(capacity, requests, "item-size-rules", "moto's figures are placeholders");
  t.deepEqual([fromRules.read, fromRules.write], [6, 8]);
  t.regex(fromRules.byOperation["DynamoDB.GetItem"]?.unitsSource ?? "", /item-size rules: moto/);
  t.deepEqual(fromRules.consumedCapacityReported, { read: 5, write: 0, requestsReporting: 10, requests: 12 });
});

test("Lambda is billed per invocation rounded up to the millisecond, at the function's memory", (t) => {
  const usage = lambdaUsage(
    [
      { functionName: "session", durationMs: 10.2, apiBytes: 100 },
      { functionName: "session", durationMs: 4.9, apiBytes: 600 * 1024 },
      { functionName: "authorizer", durationMs: 1 },
    ],
    {
      session: { memoryMb: 512, architecture: "arm64" },
      authorizer: { memoryMb: 256, architecture: "arm64" },
    },
  );
  t.is(usage.session?.invocations, 2);
  t.is(usage.session?.billedMs, 11 + 5);
  t.is(usage.authorizer?.memoryMb, 256);
  t.is(
    apiRequests([
      { functionName: "session", durationMs: 1, apiBytes: 600 * 1024 },
      { functionName: "authorizer", durationMs: 1 },
    ]),
    2,
  );
  t.throws(() => lambdaUsage([{ functionName: "unknown", durationMs: 1 }], {}), {
    message: /Terraform state/,
  });
});

test("the measured cost per 1,000 jobs scales the counts by the jobs", (t) => {
  const counts = newCounts();
  counts.billed = { "SNS.PublishBatch": 200 };
  const units = dynamodbUnits({}, {}, "item-size-rules", "");
  const cost = measuredCost(counts, units, {}, 0, 100);
  t.is(cost.byService.SNS.dollars, Number(((2000 * s.sns.requestPerMillion) / 1e6).toFixed(6)));
});

test("the engine's busy fraction is its run time over wall time and slots; the hour is the pool's price", (t) => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();
  const records = [
    { Running: at(0), Finished: at(10) },
    { Running: at(5), Finished: at(15) },
    { Running: null, Finished: at(3) },
  ];
  const time = workerTime(records, 10, 4, "t3.medium");
  t.is(time.engineBusyFraction, 0.5);
  t.is(time.dollarsPerWorkerHour, s.ec2.linuxHourly["t3.medium"]);
  t.throws(() => workerHourPrice("z9.huge"), { message: /prices\.json/ });
});

test("function memory, pool instance types and table indexes are read from the Terraform state", (t) => {
  const state = {
    values: {
      root_module: {
        child_modules: [
          {
            resources: [
              {
                type: "aws_lambda_function",
                index: "authorizer",
                address: 'module.functions.aws_lambda_function.this["authorizer"]',
                values: { memory_size: 256, architectures: ["arm64"] },
              },
              {
                type: "aws_launch_template",
                address: 'module.worker_pool["linux"].aws_launch_template.this',
                values: { instance_type: "t3.medium" },
              },
              {
                type: "aws_dynamodb_table",
                address: 'module.tables.aws_dynamodb_table.this["jobs"]',
                values: {
                  name: "foqus-jobs",
                  hash_key: "SessionId",
                  range_key: "JobId",
                  local_secondary_index: [
                    {
                      name: "ByState",
                      range_key: "State",
                      projection_type: "INCLUDE",
                      non_key_attributes: ["Username"],
                    },
                  ],
                  global_secondary_index: [
                    { name: "ByJob", hash_key: "JobId", range_key: "Username", projection_type: "KEYS_ONLY" },
                  ],
                },
              },
            ],
          },
        ],
      },
    },
  };
  const config = appliedConfigFromState(state);
  t.deepEqual(config.functions.authorizer, { memoryMb: 256, architecture: "arm64" });
  t.deepEqual(config.workerPools.linux, { instanceType: "t3.medium" });
  const jobs = config.tables.get("foqus-jobs");
  t.is(jobs?.indexes[0]?.hashKey, "SessionId", "an LSI shares the table's hash key");
  t.is(jobs?.indexes[1]?.hashKey, "JobId");
});
