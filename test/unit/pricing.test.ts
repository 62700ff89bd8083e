/**
 * The session cost estimate: usage from a session's jobs (worker time measured, requests per job
 * modelled) priced with core/pricing/prices.json, the one price table.
 */
import test from "ava";
import { priceUsage, sessionUsage } from "../../core/pricing/estimate-cost.ts";
import prices from "../../core/pricing/prices.json" with { type: "json" };

const job = (seconds: number, input: unknown = { x: 1 }) => ({
  Running: "2026-01-01T00:00:00.000Z",
  Finished: new Date(Date.parse("2026-01-01T00:00:00.000Z") + seconds * 1000).toISOString(),
  Input: input,
  Output: { output: { y: 2 } },
});

test("every service in the price table names its source, and the table its region and date", (t) => {
  t.is(prices.region, "us-east-1");
  t.regex(prices.checked, /^\d{4}-\d{2}/);
  for (const [name, service] of Object.entries(prices.services)) {
    t.regex((service as { source: string }).source, /^https:\/\/aws\.amazon\.com\//, name);
    t.regex((service as { checked: string }).checked, /^\d{4}-\d{2}/, name);
  }
});

test("worker time is the jobs' run time over the jobs a worker runs at once", (t) => {
  const usage = sessionUsage([job(3600), job(3600), job(0), { ...job(0), Running: null }], {
    workerConcurrency: 2,
  });
  t.is(usage.jobs, 4);
  t.is(usage.workerHours, 1);
  const cost = priceUsage(usage, { instanceType: "t3.medium" });
  const ec2 = cost.lines.find((line) => line.service.startsWith("EC2"));
  t.is(ec2?.dollars, prices.services.ec2.linuxHourly["t3.medium"]);
  t.true(cost.total > ec2!.dollars);
  t.is(
    cost.total,
    cost.lines.reduce((sum, line) => sum + line.dollars, 0),
  );
});

test("requests scale with the jobs, and large items cost more write units", (t) => {
  const one = sessionUsage([job(1)]);
  const thousand = sessionUsage(Array.from({ length: 1000 }, () => job(1)));
  t.is(thousand.snsRequests, one.snsRequests * 1000);
  t.is(thousand.dynamodbWriteUnits, one.dynamodbWriteUnits * 1000);
  const big = sessionUsage([job(1, { blob: "x".repeat(10 * 1024) })]);
  t.true(big.dynamodbWriteUnits > one.dynamodbWriteUnits);
});

test("Windows workers are priced as Windows, and an unknown instance type says where to add it", (t) => {
  const usage = sessionUsage([job(3600)], { workerConcurrency: 1 });
  const windows = priceUsage(usage, { instanceType: "m5.large", os: "windows" });
  t.is(windows.lines[0]?.dollars, prices.services.ec2.windowsHourly["m5.large"]);
  t.throws(() => priceUsage(usage, { instanceType: "z9.huge" }), { message: /prices\.json/ });
});
