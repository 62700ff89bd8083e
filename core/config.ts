/**
 * @module config
 * Every environment variable the service reads, read here and nowhere else. A missing variable
 * fails with a message naming it, at first use, so each handler needs only what it touches.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "./errors.ts";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new ConfigError(`Environment variable ${name} is not set; Terraform sets it for every function.`);
  }
  return value;
}

function optional(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

function integer(name: string, fallback: number): number {
  const raw = optional(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw new ConfigError(`Environment variable ${name} must be an integer, got "${raw}".`);
  return value;
}

/** Worker pools as Terraform passes them: pool name → the applications its workers run. */
export type WorkerPools = Record<string, { applications: string[]; usernames?: string[] }>;

export const config = {
  get region(): string {
    return optional("AWS_REGION") ?? optional("AWS_DEFAULT_REGION") ?? "us-east-1";
  },
  /** Set only against an emulator (moto); empty on AWS. */
  get awsEndpoint(): string | undefined {
    return optional("AWS_ENDPOINT_URL");
  },
  /** The service name of logs, traces and metrics. */
  get serviceName(): string {
    return optional("POWERTOOLS_SERVICE_NAME") ?? "foqus-cloud";
  },
  get metricsNamespace(): string {
    return optional("POWERTOOLS_METRICS_NAMESPACE") ?? "FoqusCloud";
  },
  /**
   * Whether X-Ray tracing can be on: inside Lambda (AWS_EXECUTION_ENV is set) unless
   * POWERTOOLS_TRACE_ENABLED is "false", as Powertools' Tracer decides. Elsewhere the Tracer
   * switches itself off, and core/observability.ts does not load it at all.
   */
  get tracingPossible(): boolean {
    return (
      optional("AWS_EXECUTION_ENV") !== undefined &&
      optional("POWERTOOLS_TRACE_ENABLED")?.toLowerCase() !== "false"
    );
  },
  get usersTable(): string {
    return required("USERS_TABLE");
  },
  get sessionsTable(): string {
    return required("SESSIONS_TABLE");
  },
  get jobsTable(): string {
    return required("JOBS_TABLE");
  },
  get resultsTable(): string {
    return required("RESULTS_TABLE");
  },
  get simulationsTable(): string {
    return required("SIMULATIONS_TABLE");
  },
  get idempotencyTable(): string {
    return required("IDEMPOTENCY_TABLE");
  },
  get simulationsBucket(): string {
    return required("SIMULATIONS_BUCKET");
  },
  get resultsBucket(): string {
    return required("RESULTS_BUCKET");
  },
  get updateTopicArn(): string {
    return required("UPDATE_TOPIC_ARN");
  },
  /** Result tiers: archive units and pending archive requests, keyed by (Username, Key). */
  get archivesTable(): string {
    return required("ARCHIVES_TABLE");
  },
  /** Result tiers: delayed archive requests (core/tiers/delayed-requests.ts). */
  get archiveQueueUrl(): string {
    return required("ARCHIVE_QUEUE_URL");
  },
  /** Its ARN: the target of EventBridge Scheduler schedules for delays beyond SQS's 900 s. */
  get archiveQueueArn(): string {
    return required("ARCHIVE_QUEUE_ARN");
  },
  /** Result tiers: restore requests (an upgrade) and the results bucket's restore notifications. */
  get restoreQueueUrl(): string {
    return required("RESTORE_QUEUE_URL");
  },
  /** EventBridge Scheduler group of the one-time archive schedules. */
  get archiveScheduleGroup(): string {
    return required("ARCHIVE_SCHEDULE_GROUP");
  },
  /** The role EventBridge Scheduler assumes to send a due archive request to the archive queue. */
  get archiveSchedulerRoleArn(): string {
    return required("ARCHIVE_SCHEDULER_ROLE_ARN");
  },
  /** Seconds a free user's finished results stay readable before they are archived. */
  get archiveGraceSeconds(): number {
    const value = integer("ARCHIVE_GRACE_SECONDS", 300);
    if (value < 1) throw new ConfigError(`ARCHIVE_GRACE_SECONDS must be at least 1, got ${value}.`);
    return value;
  },
  /** The S3 storage class archived results go to (GLACIER or DEEP_ARCHIVE: both need a restore). */
  get archiveStorageClass(): "GLACIER" | "DEEP_ARCHIVE" {
    const value = optional("ARCHIVE_STORAGE_CLASS") ?? "GLACIER";
    if (value !== "GLACIER" && value !== "DEEP_ARCHIVE")
      throw new ConfigError(`ARCHIVE_STORAGE_CLASS must be GLACIER or DEEP_ARCHIVE, got "${value}".`);
    return value;
  },
  /** Days a restored archive copy is kept by S3 (the restorer re-hydrates long before). */
  get restoreDays(): number {
    return integer("RESTORE_DAYS", 2);
  },
  /** The per-deployment topic that tells users their session finished (filtered by username). */
  get notificationTopicArn(): string {
    return required("NOTIFICATION_TOPIC_ARN");
  },
  get workerPools(): WorkerPools {
    const raw = required("WORKER_POOLS");
    try {
      return JSON.parse(raw) as WorkerPools;
    } catch {
      throw new ConfigError(
        `Environment variable WORKER_POOLS must be JSON like {"linux":{"applications":["fake"]}}.`,
      );
    }
  },
  /**
   * ARNs of the pools' job dead-letter queues: a job.submit that arrives from one of them is a
   * job whose workers kept dying (JSON array; Terraform sets it from the messaging module).
   */
  get jobDeadLetterQueueArns(): string[] {
    const raw = optional("JOB_DEAD_LETTER_QUEUE_ARNS");
    if (raw === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((arn) => typeof arn === "string")) {
      throw new ConfigError(
        `Environment variable JOB_DEAD_LETTER_QUEUE_ARNS must be a JSON array of queue ARNs, got "${raw}".`,
      );
    }
    return parsed;
  },
  /** How long the authorizer trusts a verified credential, in seconds. */
  get credentialCacheSeconds(): number {
    return integer("CREDENTIAL_CACHE_SECONDS", 300);
  },
  /** How many verified credentials the authorizer keeps. */
  get credentialCacheSize(): number {
    return integer("CREDENTIAL_CACHE_SIZE", 1000);
  },
  /**
   * How long the authorizer remembers a failed credential, in seconds: a repeat answers 401
   * without hashing again. Short, because it is also how long a password reset can be refused
   * for a user who tried the new password before the reset was done.
   */
  get failedCredentialCacheSeconds(): number {
    return integer("FAILED_CREDENTIAL_CACHE_SECONDS", 30);
  },
  /** How many failed credentials the authorizer remembers (oldest forgotten first). */
  get failedCredentialCacheSize(): number {
    return integer("FAILED_CREDENTIAL_CACHE_SIZE", 10_000);
  },
  /**
   * How long API Gateway caches an authorizer answer, in seconds (Terraform's
   * authorizer_result_ttl_seconds, passed to every function). With credentialCacheSeconds it
   * bounds how long a credential verified before a user's removal may still be honoured.
   */
  get authorizerCacheSeconds(): number {
    return integer("AUTHORIZER_CACHE_SECONDS", 300);
  },
  /** Session fan-outs: the queue of backend pages (core/sessions/fan-out.ts). */
  get fanOutQueueUrl(): string {
    return required("FANOUT_QUEUE_URL");
  },
  /**
   * Most jobs one start, stop, kill or delete call changes itself (one Query page, at most a
   * hundredth as many transactions, or a tenth as many PublishBatch calls); the rest are left
   * to backend pages. FOQUS's start after each append of 20 is always answered in full.
   */
  get fanOutInlineJobs(): number {
    const value = integer("FANOUT_INLINE_JOBS", 500);
    if (value < 1) throw new ConfigError(`FANOUT_INLINE_JOBS must be at least 1, got ${value}.`);
    return value;
  },
  /** Jobs one backend fan-out page changes (a Lambda invocation well inside its timeout). */
  get fanOutPageJobs(): number {
    const value = integer("FANOUT_PAGE_JOBS", 1000);
    if (value < 1) throw new ConfigError(`FANOUT_PAGE_JOBS must be at least 1, got ${value}.`);
    return value;
  },
  /**
   * Most jobs `GET /session/{sid}` lists in one answer; a larger session answers 413 and is read
   * page by page (`?page=1&rpp=1000`).
   */
  get sessionListingMaxJobs(): number {
    const value = integer("SESSION_LISTING_MAX_JOBS", 10_000);
    if (value < 1) throw new ConfigError(`SESSION_LISTING_MAX_JOBS must be at least 1, got ${value}.`);
    return value;
  },
  /** Worker: the pool's job queue. */
  get jobQueueUrl(): string {
    return required("JOB_QUEUE_URL");
  },
  /** Worker: its name in job records (ConsumerId); defaults to host name and process id. */
  get workerId(): string | undefined {
    return optional("WORKER_ID");
  },
  /** Worker: jobs run at once. */
  get workerConcurrency(): number {
    return integer("WORKER_CONCURRENCY", 4);
  },
  /** Worker: seconds between lease extensions and kill checks (≤ 10 s: kills land within it). */
  get heartbeatSeconds(): number {
    return integer("HEARTBEAT_SECONDS", 5);
  },
  /**
   * Worker: milliseconds a job's setup or running event is held back, so that a later event of
   * the job replaces it (worker/progress-outbox.ts); 0 sends each at once.
   */
  get progressHoldMs(): number {
    const value = integer("PROGRESS_HOLD_MS", 1000);
    if (value < 0 || value > 10_000)
      throw new ConfigError(
        `PROGRESS_HOLD_MS must be 0 to 10000 (kept under a heartbeat's reach), got ${value}.`,
      );
    return value;
  },
  /** Worker: how long a received job stays invisible to other workers without a heartbeat. */
  get leaseSeconds(): number {
    return integer("LEASE_SECONDS", 30);
  },
  /**
   * Worker: long-poll wait of one receive, in seconds, 0 to 20. Shorter only for tests on the
   * emulator: a killed worker's pending receive lives on inside moto until its wait is over,
   * receiving (and so spending) deliveries that nobody will run.
   */
  get receiveWaitSeconds(): number {
    const value = integer("RECEIVE_WAIT_SECONDS", 20);
    if (value < 0 || value > 20)
      throw new ConfigError(`RECEIVE_WAIT_SECONDS must be 0 to 20 (SQS's longest wait), got ${value}.`);
    return value;
  },
  /** Worker: seconds given to jobs in hand to finish after SIGTERM before they are released. */
  get shutdownGraceSeconds(): number {
    return integer("SHUTDOWN_GRACE_SECONDS", 10);
  },
  /** Worker: where staged simulation files are cached and engines keep their working files. */
  get workerCacheDir(): string {
    return optional("WORKER_CACHE_DIR") ?? join(tmpdir(), "foqus-worker-cache");
  },
  /**
   * Worker: JSON map of application → command for the command engine: an executable path, or an
   * array of executable and arguments (never split on spaces, so paths with spaces work).
   */
  get commandApplications(): Record<string, string[]> {
    const raw = optional("COMMAND_APPLICATIONS");
    if (!raw) return {};
    const usage =
      'COMMAND_APPLICATIONS must be JSON like {"myapp":"/opt/myapp/run"} or {"myapp":["python3","/opt/myapp/run.py"]}.';
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError(usage);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ConfigError(usage);
    const commands: Record<string, string[]> = {};
    for (const [application, command] of Object.entries(parsed)) {
      const line = typeof command === "string" ? [command] : command;
      if (!Array.isArray(line) || line.length === 0 || !line.every((part) => typeof part === "string")) {
        throw new ConfigError(usage);
      }
      commands[application] = line;
    }
    return commands;
  },
  /** Worker: seconds a command engine run may take. */
  get commandTimeoutSeconds(): number {
    return integer("COMMAND_TIMEOUT_SECONDS", 3600);
  },
  /**
   * Worker, foqus engine: the Python interpreter that imports FOQUS (a venv's python after
   * `pip install ccsi-foqus`, or /usr/bin/python3 with FOQUS_PATH). Unset: no foqus engine.
   */
  get foqusPython(): string | undefined {
    return optional("FOQUS_PYTHON");
  },
  /**
   * Worker, foqus engine: a directory prepended to the FOQUS process's PYTHONPATH, holding an
   * unpacked FOQUS (foqus_lib/ and turbine/), e.g. .local/foqus-runtime from
   * local/env/foqus-runtime.sh. Not needed when FOQUS_PYTHON has FOQUS installed.
   */
  get foqusPath(): string | undefined {
    return optional("FOQUS_PATH");
  },
  /** Worker, foqus engine: seconds a FOQUS job may take (start, session load and run). */
  get foqusTimeoutSeconds(): number {
    return integer("FOQUS_TIMEOUT_SECONDS", 3600);
  },
  /** Worker, fake engine: delay per job in milliseconds. */
  get fakeDelayMs(): number {
    return integer("FAKE_DELAY_MS", 0);
  },
  /** Worker, fake engine: share of jobs that fail, 0 to 1. */
  get fakeFailureRate(): number {
    const raw = optional("FAKE_FAILURE_RATE");
    const value = raw === undefined ? 0 : Number(raw);
    if (!(value >= 0 && value <= 1))
      throw new ConfigError(`FAKE_FAILURE_RATE must be between 0 and 1, got "${raw}".`);
    return value;
  },
  /** Benchmarks: where a process writes its AWS request counts when it stops. */
  get requestCountFile(): string | undefined {
    return optional("FOQUS_REQUEST_COUNT_FILE");
  },
};
