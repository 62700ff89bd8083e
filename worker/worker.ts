/**
 * @module worker
 * The worker loop. It long-polls its pool's job queue for up to as many jobs as it has free
 * slots (at most 10), reads their records in one BatchGet, and runs the runnable ones with
 * bounded concurrency. Per job:
 *
 *   publish setup → fetch staged files → publish running → engine → publish success | error
 *   → delete the message (only now: a crash before this makes SQS deliver the job again)
 *
 * Outcomes are kept apart: the job failed (EngineError → `job.error`, message deleted); the job
 * was killed (abort on heartbeat → no event, the processor already ended it; message deleted);
 * the infrastructure failed or the worker is shutting down (message released for another
 * worker, no event). A job whose record is paused, terminal or gone is not run; its message is
 * deleted (start sends a new one for a paused job).
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ChangeMessageVisibilityCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { sqsClient } from "../core/aws/clients.ts";
import { newEvent } from "../core/events/event-publisher.ts";
import { EventTypes, type FoqusEvent } from "../core/events/events.ts";
import { parseEvent } from "../core/events/parse-event.ts";
import type { JobItem } from "../core/jobs/job.ts";
import { getJobsByKey, jobKey } from "../core/jobs/job-store.ts";
import { MAX_INLINE_OUTPUT_BYTES } from "../core/limits.ts";
import { logger } from "../core/observability.ts";
import { outputKey, putOutput } from "../core/results/output-store.ts";
import type { Batcher } from "./batcher.ts";
import { type Engine, EngineError } from "./engines/engine.ts";
import { KILLED, LeaseKeeper } from "./lease.ts";
import { createMessageDeleter } from "./message-deleter.ts";
import type { StagedFiles } from "./staged-files.ts";

const SHUTDOWN = "shutdown";
const RUNNABLE_STATES = new Set(["create", "submit", "setup", "running"]);

export interface WorkerOptions {
  queueUrl: string;
  concurrency: number;
  heartbeatSeconds: number;
  leaseSeconds: number;
  shutdownGraceSeconds: number;
  workerId?: string;
  /** Engine for an application (undefined: this worker cannot run it). */
  engineFor: (application: string) => Engine | undefined;
  /** Publishes events in batches (SNS PublishBatch). */
  outbox: Batcher<FoqusEvent>;
  stagedFiles?: StagedFiles;
}

interface Delivery {
  message: Message;
  event: FoqusEvent;
  attempt: number;
}

export class Worker {
  readonly id: string;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly leases: LeaseKeeper;
  private readonly deleter: Batcher<string>;
  private readonly poll = new AbortController();
  private readonly stopped = new Promise<void>((resolve) =>
    this.poll.signal.addEventListener("abort", () => resolve()),
  );
  private loopDone: Promise<void> | undefined;
  /** Jobs this worker finished (any outcome), for tests and logs. */
  completed = 0;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.workerId ?? `${hostname()}-${process.pid}`;
    this.leases = new LeaseKeeper(options.queueUrl, options.heartbeatSeconds, options.leaseSeconds);
    this.deleter = createMessageDeleter(options.queueUrl);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.leases.start();
    void this.options.outbox
      .add(newEvent({ event: EventTypes.consumerRunning, username: "-", session: "-", consumer: this.id }))
      .catch(() => undefined);
    this.loopDone = this.loop();
  }

  /**
   * Stops taking jobs, gives the jobs in hand the grace period to finish, then aborts the rest
   * and releases their messages so another worker runs them. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.running) return this.loopDone;
    this.running = false;
    this.poll.abort();
    await this.loopDone;
    const all = Promise.allSettled([...this.inFlight]);
    const graceOver = sleep(this.options.shutdownGraceSeconds * 1000).then(() => "grace-over" as const);
    if ((await Promise.race([all.then(() => "done" as const), graceOver])) === "grace-over") {
      for (const controller of this.controllers.values()) controller.abort(SHUTDOWN);
      await all;
    }
    await this.leases.stop();
    await this.options.outbox.flush();
    await this.deleter.flush();
  }

  private readonly controllers = new Map<string, AbortController>();

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0) {
        // Wait for a free slot, or for stop(): a full worker must still notice shutdown at once.
        await Promise.race([...this.inFlight, this.stopped]);
        continue;
      }
      try {
        const { Messages } = await sqsClient().send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: Math.min(10, free),
            WaitTimeSeconds: 20,
            VisibilityTimeout: this.options.leaseSeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: this.poll.signal },
        );
        failures = 0;
        if (Messages && Messages.length > 0) await this.dispatch(Messages);
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        const wait = Math.min(30_000, 500 * 2 ** failures);
        logger.warn("receiving jobs failed; backing off", { error: (error as Error).message, waitMs: wait });
        await sleep(wait);
      }
    }
  }

  private async dispatch(messages: Message[]): Promise<void> {
    const deliveries: Delivery[] = [];
    for (const message of messages) {
      try {
        const event = parseEvent(message.Body ?? "");
        if (event.event !== EventTypes.jobSubmit || !event.job)
          throw new Error(`not a job.submit event: ${event.event}`);
        deliveries.push({
          message,
          event,
          attempt: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
        });
      } catch (error) {
        // Not a job at all: nothing could ever run it.
        logger.error("dropping a message that is not a job", { error: (error as Error).message });
        await this.deleteMessage(message);
      }
    }
    const records = await getJobsByKey(
      deliveries.map(({ event }) => ({ sessionId: event.session, jobId: event.job! })),
    );
    for (const delivery of deliveries) {
      const job = records.get(jobKey(delivery.event.session, delivery.event.job!));
      if (!job || !RUNNABLE_STATES.has(job.State)) {
        logger.info("skipping a job that is not runnable", {
          session: delivery.event.session,
          job: delivery.event.job,
          state: job?.State ?? "deleted",
        });
        await this.deleteMessage(delivery.message);
        continue;
      }
      const run = this.run(delivery, job).finally(() => {
        this.inFlight.delete(run);
      });
      this.inFlight.add(run);
    }
  }

  private async run(delivery: Delivery, job: JobItem): Promise<void> {
    const started = Date.now();
    const log = logger.createChild({
      persistentKeys: {
        session: job.SessionId,
        job: job.JobId,
        application: job.Application,
        username: job.Username,
      },
    });
    const controller = new AbortController();
    this.controllers.set(job.JobId, controller);
    this.leases.hold({
      sessionId: job.SessionId,
      jobId: job.JobId,
      receiptHandle: delivery.message.ReceiptHandle ?? "",
      controller,
    });
    const base = {
      username: job.Username,
      session: job.SessionId,
      job: job.JobId,
      application: job.Application,
      simulation: job.Simulation,
      consumer: this.id,
    };
    const outcome = (name: string, extra: Record<string, unknown> = {}) =>
      log.info(`job ${name}`, { durationMs: Date.now() - started, attempt: delivery.attempt, ...extra });
    try {
      const engine = this.options.engineFor(job.Application);
      const setup = newEvent({ ...base, event: EventTypes.jobSetup });
      await this.options.outbox.add(setup);
      const stamps: Partial<FoqusEvent> = { setupTime: setup.time };
      const stagedFiles =
        engine && this.options.stagedFiles
          ? await this.options.stagedFiles.fetch(job.Username, job.Simulation)
          : {};
      const running = newEvent({ ...base, ...stamps, event: EventTypes.jobRunning });
      await this.options.outbox.add(running);
      stamps.runningTime = running.time;
      log.info("job running", { attempt: delivery.attempt });
      let final: FoqusEvent;
      try {
        if (!engine)
          throw new EngineError("invalid-input", `This worker pool has no engine for "${job.Application}".`);
        const output = await engine.run(
          {
            jobId: job.JobId,
            sessionId: job.SessionId,
            simulation: job.Simulation,
            application: job.Application,
            input: JSON.parse(job.InputJson) as Record<string, unknown>,
            initialize: job.Initialize,
            reset: job.Reset,
            stagedFiles,
          },
          controller.signal,
        );
        final = newEvent({
          ...base,
          ...stamps,
          event: EventTypes.jobSuccess,
          ...(await this.outputFields(job, output)),
        });
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        final = newEvent({
          ...base,
          ...stamps,
          event: EventTypes.jobError,
          message: error.message,
          errorClass: error.errorClass,
          ...(error.output ? await this.outputFields(job, error.output) : {}),
        });
      }
      await this.options.outbox.add(final);
      await this.deleteMessage(delivery.message);
      outcome(
        final.event === EventTypes.jobSuccess ? "succeeded" : "failed",
        final.message ? { message: final.message } : {},
      );
    } catch (error) {
      if (controller.signal.reason === KILLED) {
        await this.deleteMessage(delivery.message);
        outcome("killed");
      } else {
        // Shutdown or an infrastructure failure: another delivery will run the job.
        await this.releaseMessage(delivery.message);
        outcome("released", { reason: controller.signal.aborted ? SHUTDOWN : (error as Error).message });
      }
    } finally {
      this.leases.release(job.JobId);
      this.controllers.delete(job.JobId);
      this.completed += 1;
    }
  }

  private async outputFields(job: JobItem, output: Record<string, unknown>): Promise<Partial<FoqusEvent>> {
    const json = JSON.stringify(output);
    if (Buffer.byteLength(json) <= MAX_INLINE_OUTPUT_BYTES) return { outputJson: json };
    const key = outputKey(job.Username, job.SessionId, job.JobId);
    await putOutput(key, json);
    return { outputKey: key };
  }

  private async deleteMessage(message: Message): Promise<void> {
    await this.deleter.add(message.ReceiptHandle ?? "");
  }

  private async releaseMessage(message: Message): Promise<void> {
    try {
      await sqsClient().send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.options.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch (error) {
      logger.warn("could not release a job; it reappears when its lease ends", {
        error: (error as Error).message,
      });
    }
  }
}
