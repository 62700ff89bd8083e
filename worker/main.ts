/**
 * @module main
 * Worker entry point: `node --import tsx worker/main.ts` (or the systemd unit / Windows service
 * on the worker images). Configuration is environment only: JOB_QUEUE_URL, UPDATE_TOPIC_ARN,
 * JOBS_TABLE, SIMULATIONS_BUCKET, RESULTS_BUCKET, and optionally WORKER_ID, WORKER_CONCURRENCY,
 * HEARTBEAT_SECONDS, LEASE_SECONDS, PROGRESS_HOLD_MS, RECEIVE_WAIT_SECONDS, SHUTDOWN_GRACE_SECONDS, WORKER_CACHE_DIR,
 * COMMAND_APPLICATIONS, COMMAND_TIMEOUT_SECONDS, FAKE_DELAY_MS, FAKE_FAILURE_RATE
 * (see core/config.ts and the README). It wires the worker to AWS: the pool's SQS job queue,
 * the SNS outbox, the engines and the staged-file cache.
 *
 * SIGTERM and SIGINT stop it gracefully: no new jobs, jobs in hand finish within the grace
 * period or are released to other workers. SIGHUP is left alone: the service managers we run
 * under do not send it to mean "stop".
 *
 * On an Auto Scaling instance (AUTOSCALING_GROUP_NAME set, from the environment or the instance's
 * tags when WORKER_CONFIG_FROM_TAGS=1), worker/instance-lifecycle.ts keeps the instance
 * protected from scale-in while it holds jobs, and stops the same graceful way on the group's
 * termination hook (then completes it) or a Spot interruption notice.
 */

import { config } from "../core/config.ts";
import { publishEvents } from "../core/events/event-publisher.ts";
import { logger } from "../core/observability.ts";
import { awsScalingPort } from "./auto-scaling.ts";
import { Batcher } from "./batcher.ts";
import { countForBench } from "./bench-counts.ts";
import { createEngineRegistry } from "./engines/registry.ts";
import { Imds, InstanceLifecycle, settingsFromTags } from "./instance-lifecycle.ts";
import { SqsJobQueue } from "./job-queue.ts";
import { ProgressOutbox } from "./progress-outbox.ts";
import { StagedFiles } from "./staged-files.ts";
import { Worker } from "./worker.ts";
import { XRaySegments } from "./xray-segments.ts";

/** Every setting an instance tag may give (core/config.ts reads them from the environment). */
const TAGGED_SETTINGS = [
  "JOB_QUEUE_URL",
  "UPDATE_TOPIC_ARN",
  "JOBS_TABLE",
  "SIMULATIONS_BUCKET",
  "RESULTS_BUCKET",
  "AWS_REGION",
  "WORKER_CONCURRENCY",
  "SHUTDOWN_GRACE_SECONDS",
  "AUTOSCALING_GROUP_NAME",
  "LIFECYCLE_HOOK_NAME",
] as const;

const imds = new Imds(process.env.IMDS_ENDPOINT);
if (process.env.WORKER_CONFIG_FROM_TAGS === "1") {
  const applied = await settingsFromTags(imds, TAGGED_SETTINGS).catch((error: unknown) => {
    logger.warn("instance tags not read; using the environment only", { error: (error as Error).message });
    return [];
  });
  if (applied.length > 0) logger.info("settings from instance tags", { settings: applied });
}

const queue = new SqsJobQueue({
  queueUrl: config.jobQueueUrl,
  leaseSeconds: config.leaseSeconds,
  waitSeconds: config.receiveWaitSeconds,
});
const outbox = new ProgressOutbox(new Batcher(publishEvents), config.progressHoldMs, logger);
const worker = new Worker({
  concurrency: config.workerConcurrency,
  heartbeatSeconds: config.heartbeatSeconds,
  leaseSeconds: config.leaseSeconds,
  shutdownGraceSeconds: config.shutdownGraceSeconds,
  ...(config.workerId ? { workerId: config.workerId } : {}),
  queue,
  engineFor: createEngineRegistry(),
  outbox,
  stagedFiles: new StagedFiles(config.simulationsBucket, config.workerCacheDir),
  // Each run's segment goes to the X-Ray daemon when one is configured (the images' CloudWatch agent).
  ...(process.env.AWS_XRAY_DAEMON_ADDRESS
    ? { segments: new XRaySegments(process.env.AWS_XRAY_DAEMON_ADDRESS) }
    : {}),
});

// Benchmarks only (worker/bench-counts.ts): requests, CPU and jobs, written at the stop and on SIGUSR2.
const benchCounts =
  config.requestCountFile &&
  countForBench(config.requestCountFile, queue, worker, async () => {
    await outbox.flush();
    await queue.flush();
  });

let stopping: Promise<void> | undefined;
function stopWorker(reason: string): Promise<void> {
  stopping ??= (async () => {
    logger.info("stopping", { signal: reason, worker: worker.id });
    await worker.stop();
  })();
  return stopping;
}

const group = process.env.AUTOSCALING_GROUP_NAME;
const lifecycle = group
  ? new InstanceLifecycle({
      metadata: imds,
      scaling: awsScalingPort({
        group,
        instanceId: (await imds.get("instance-id")) ?? "",
        ...(process.env.LIFECYCLE_HOOK_NAME ? { hook: process.env.LIFECYCLE_HOOK_NAME } : {}),
      }),
      worker: {
        get inHand() {
          return worker.inHand;
        },
        stop: (reason) => stopWorker(reason),
      },
      log: (message, fields) => logger.info(message, { ...fields, worker: worker.id }),
      // A scale-in or Spot stop ends the process as a signal does, once the hook is completed.
      onEnded: (reason) => void onSignal(reason)(),
    })
  : undefined;

async function shutdown(signal: string): Promise<void> {
  await stopWorker(signal);
  // After a scale-in or Spot stop the watcher has done its part (the hook completed); else end it.
  if (lifecycle && !lifecycle.ended) await lifecycle.close();
  logger.info("stopped", {
    worker: worker.id,
    jobs: worker.completed,
    releaseCounts: worker.releaseCounts(),
  });
  if (benchCounts) await benchCounts.write();
  process.exit(0);
}
// worker.stop() never rejects; writing the counts may, and then the exit says so.
const onSignal = (signal: string) => () =>
  shutdown(signal).catch((error: unknown) => {
    logger.error("shutdown failed", { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
process.on("SIGTERM", onSignal("SIGTERM"));
process.on("SIGINT", onSignal("SIGINT"));

logger.info("worker started", {
  worker: worker.id,
  queue: config.jobQueueUrl,
  concurrency: config.workerConcurrency,
});
worker.start();
lifecycle?.start();
