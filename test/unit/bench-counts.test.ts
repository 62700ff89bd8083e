/**
 * The worker's benchmark counts (worker/bench-counts.ts): CPU from the first job that arrives,
 * the jobs done, written whole, and a snapshot on SIGUSR2 that sends what waits first.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { countForBench } from "../../worker/bench-counts.ts";
import type { Delivery, JobQueue } from "../../worker/job-queue.ts";

test.serial("counts CPU from the first job on, and a SIGUSR2 writes a snapshot after flushing", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "bench-counts-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "counts.json");
  let answer: Delivery[] = [];
  const queue = { receive: async () => answer } as unknown as JobQueue;
  const worker = { completed: 0 };
  const order: string[] = [];
  const bench = countForBench(file, queue, worker, async () => {
    order.push("flushed");
  });

  // No job yet: start-up only.
  await queue.receive(10, new AbortController().signal);
  await bench.write();
  const idle = JSON.parse(readFileSync(file, "utf8"));
  t.is(idle.cpuMicrosFromFirstJob, undefined);
  t.true(idle.cpuMicros > 0);

  answer = [{ id: "d-1", body: "{}", attempt: 1 }];
  await queue.receive(10, new AbortController().signal);
  worker.completed = 3;
  rmSync(file);
  process.kill(process.pid, "SIGUSR2");
  for (let waited = 0; !existsSync(file) && waited < 10_000; waited += 20) await sleep(20);
  const snapshot = JSON.parse(readFileSync(file, "utf8"));
  t.is(snapshot.jobs, 3);
  t.true(snapshot.cpuMicrosFromFirstJob >= 0);
  t.true(snapshot.cpuMicrosFromFirstJob <= snapshot.cpuMicros);
  t.deepEqual(order, ["flushed", "flushed"]);
  t.false(existsSync(`${file}.part`));
});
