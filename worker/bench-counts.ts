/**
 * @module bench-counts
 * What `make bench` reads from a worker when FOQUS_REQUEST_COUNT_FILE names a file: its AWS
 * requests by service and operation (core/aws/request-counter.ts), its CPU time since it started
 * and since its first job (start-up, the SDK's lazy loading and first connections, is a cost per
 * process, not per job), and the jobs it ran. Written when the worker stops, and on SIGUSR2 as a
 * snapshot of a worker that goes on: the deletes and events waiting for their batch are sent
 * first, so a snapshot of an idle worker holds every request of the jobs it finished. The bench
 * takes a warm worker's CPU per job between a snapshot and the stop.
 */
import { renameSync, writeFileSync } from "node:fs";
import { useClientPlugin } from "../core/aws/clients.ts";
import { countingPlugin, newCounts } from "../core/aws/request-counter.ts";
import type { JobQueue } from "./job-queue.ts";

export interface BenchCounts {
  /** Writes the file now (atomically: a reader never sees half of it), after `beforeWrite`. */
  write(): Promise<void>;
}

export function countForBench(
  file: string,
  queue: JobQueue,
  worker: { readonly completed: number },
  beforeWrite: () => Promise<void>,
): BenchCounts {
  const counts = newCounts();
  const cpuAtStart = process.cpuUsage();
  let cpuAtFirstJob: NodeJS.CpuUsage | undefined;
  useClientPlugin(countingPlugin(counts));
  const receive = queue.receive.bind(queue);
  queue.receive = async (...args) => {
    const deliveries = await receive(...args);
    if (deliveries.length > 0) cpuAtFirstJob ??= process.cpuUsage();
    return deliveries;
  };
  const bench: BenchCounts = {
    async write() {
      await beforeWrite();
      const cpu = process.cpuUsage(cpuAtStart);
      const steady = cpuAtFirstJob && process.cpuUsage(cpuAtFirstJob);
      writeFileSync(
        `${file}.part`,
        JSON.stringify({
          ...counts,
          cpuMicros: cpu.user + cpu.system,
          ...(steady
            ? {
                cpuMicrosFromFirstJob: steady.user + steady.system,
                systemCpuMicrosFromFirstJob: steady.system,
              }
            : {}),
          jobs: worker.completed,
        }),
      );
      renameSync(`${file}.part`, file);
    },
  };
  process.on("SIGUSR2", () => void bench.write().catch(() => undefined));
  return bench;
}
