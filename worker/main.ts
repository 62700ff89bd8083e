/**
 * @module main
 * Worker entry point: `node --import tsx worker/main.ts` (or the systemd unit / Windows service
 * on the worker images). Configuration is environment only: JOB_QUEUE_URL, UPDATE_TOPIC_ARN,
 * JOBS_TABLE, SIMULATIONS_BUCKET, RESULTS_BUCKET, and optionally WORKER_ID, WORKER_CONCURRENCY,
 * HEARTBEAT_SECONDS, LEASE_SECONDS, SHUTDOWN_GRACE_SECONDS, WORKER_CACHE_DIR,
 * COMMAND_APPLICATIONS, COMMAND_TIMEOUT_SECONDS, FAKE_DELAY_MS, FAKE_FAILURE_RATE
 * (see core/config.ts and the README).
 *
 * SIGTERM and SIGINT stop it gracefully: no new jobs, jobs in hand finish within the grace
 * period or are released to other workers. SIGHUP is left alone: the service managers we run
 * under do not send it to mean "stop".
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { config } from "../core/config.ts";
import { logger } from "../core/observability.ts";
import { createEngineRegistry } from "./engines/registry.ts";
import { EventOutbox } from "./event-outbox.ts";
import { StagedFiles } from "./staged-files.ts";
import { Worker } from "./worker.ts";

const worker = new Worker({
  queueUrl: config.jobQueueUrl,
  concurrency: config.workerConcurrency,
  heartbeatSeconds: config.heartbeatSeconds,
  leaseSeconds: config.leaseSeconds,
  shutdownGraceSeconds: config.shutdownGraceSeconds,
  ...(config.workerId ? { workerId: config.workerId } : {}),
  engineFor: createEngineRegistry(),
  outbox: new EventOutbox(),
  stagedFiles: new StagedFiles(
    config.simulationsBucket,
    config.workerCacheDir ?? join(tmpdir(), "foqus-worker-cache"),
  ),
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("stopping", { signal, worker: worker.id });
  await worker.stop();
  logger.info("stopped", { worker: worker.id, jobs: worker.completed });
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

logger.info("worker started", {
  worker: worker.id,
  queue: config.jobQueueUrl,
  concurrency: config.workerConcurrency,
});
worker.start();
