/**
 * @module local/env/stack
 * `make local`: the whole system on one machine. Starts moto, applies the same Terraform to it,
 * runs the API through the local gateway, the update processor through local SQS triggers, and
 * N worker processes; writes .local/stack.json (apiUrl, user, password, awsEndpoint) and stops
 * everything on Ctrl-C or SIGTERM.
 *
 * The API is served over http and, with the checkout's own CA (local/env/tls.ts, .local/tls/),
 * over https as well, for FOQUS desktop, which sends credentials only over https. `make local`
 * writes .local/turbine_aws.cfg for it (local/env/turbine-config.ts) and removes it on stop.
 *
 * Ports: FOQUS_API_PORT (http, default 8080), FOQUS_HTTPS_PORT (https, default 8443) and
 * MOTO_PORT (default 5055). Workers: FOQUS_WORKERS (default 2).
 */
import "./process-defaults.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type LocalStack, localStackFile } from "../../cli/local-stack.ts";
import { startBackendTriggers } from "../runtime/backend-triggers.ts";
import { type Gateway, startGateway } from "../runtime/gateway.ts";
import { findFoqusRuntime, foqusWorkerEnvironment } from "./foqus-runtime.ts";
import { type MotoServer, startMoto } from "./moto.ts";
import { assertPortFree } from "./ports.ts";
import { applyStack, type StackOutputs } from "./terraform.ts";
import { ensureLocalTls, type LocalTls } from "./tls.ts";
import { LOCAL_TURBINE_CONFIG, removeTurbineConfig, writeTurbineConfig } from "./turbine-config.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const STACK_FILE = localStackFile();

export interface StackOptions {
  apiPort?: number;
  /** Also serve the API over https on this port (0: a free one), with the checkout's CA; unset: http only. */
  httpsPort?: number;
  motoPort?: number;
  workers?: number;
  /** Extra environment for worker processes (engine settings in tests). */
  workerEnv?: Record<string, string>;
  /** Progress lines; defaults to stdout. */
  log?: (line: string) => void;
  /** Print one line per API request. */
  logRequests?: boolean;
  writeStackFile?: boolean;
  /** Write .local/turbine_aws.cfg (FOQUS desktop, the turbine client) when https is served; removed on stop. */
  writeTurbineConfig?: boolean;
}

export interface Stack {
  apiUrl: string;
  /** The https URL of the same API, when served. */
  httpsUrl: string | undefined;
  /** The CA certificate that signed the https certificate (REQUESTS_CA_BUNDLE), when https is served. */
  caCertPath: string | undefined;
  /** Why https was asked for but is not served (openssl missing). */
  httpsUnavailable: string | undefined;
  /** The turbine_aws.cfg written for FOQUS desktop, if any. */
  turbineConfigFile: string | undefined;
  user: string;
  password: string;
  awsEndpoint: string;
  outputs: StackOutputs;
  /** This run's Terraform directory (its data dir and `terraform.tfstate`); removed on stop. */
  terraformDir: string;
  moto: MotoServer;
  workers: ChildProcess[];
  /** Starts one more worker process (tests kill and replace workers). */
  addWorker(extraEnv?: Record<string, string>): ChildProcess;
  stop(): Promise<void>;
}

/** Environment every local component shares: the functions' own, plus emulator credentials. */
export function localEnvironment(outputs: StackOutputs, endpoint: string): Record<string, string> {
  return {
    ...outputs.function_environment,
    // `ARCHIVE_GRACE_SECONDS=30 make local`: a free user's results archive after 30 s instead of 300.
    ...(process.env.ARCHIVE_GRACE_SECONDS
      ? { ARCHIVE_GRACE_SECONDS: process.env.ARCHIVE_GRACE_SECONDS }
      : {}),
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
  };
}

/** Sets the functions' environment in this process, for handlers invoked in-process. */
export function applyEnvironment(env: Record<string, string>): void {
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
}

function integerEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, not "${raw}"`);
  return value;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const step = (text: string) => log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${text}`);
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    // Every step runs even if one fails: nothing may be left behind.
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup failed: ${(error as Error).message}`);
      }
    }
    cleanups.length = 0;
  };

  try {
    if (options.apiPort) await assertPortFree(options.apiPort, "FOQUS_API_PORT");
    if (options.httpsPort && options.httpsPort === options.apiPort)
      throw new Error(
        `FOQUS_HTTPS_PORT and FOQUS_API_PORT are both ${options.httpsPort}: http and https need two ports, e.g. FOQUS_API_PORT=8080 FOQUS_HTTPS_PORT=8443 make local`,
      );
    if (options.httpsPort) await assertPortFree(options.httpsPort, "FOQUS_HTTPS_PORT");
    let tls: LocalTls | undefined;
    let httpsUnavailable: string | undefined;
    if (options.httpsPort !== undefined) {
      const result = ensureLocalTls();
      if (result.available) {
        tls = result;
        if (result.generated !== "none")
          step(
            `made ${result.generated === "ca+server" ? "a local CA and a server certificate" : "a new server certificate"} in ${dirname(result.caCertPath)}`,
          );
      } else {
        httpsUnavailable = result.reason;
        step(`https unavailable: ${result.reason}; serving http only (FOQUS desktop needs https)`);
      }
    }
    step(
      `starting the AWS emulator (moto) on ${options.motoPort ? `port ${options.motoPort}` : "a free port"}`,
    );
    const moto = await startMoto({
      ...(options.motoPort ? { port: options.motoPort } : {}),
      portVariable: "MOTO_PORT",
    });
    cleanups.push(() => moto.stop());
    step(`moto ready at ${moto.endpoint}; applying terraform/ to it (about a minute)`);

    const workDir = mkdtempSync(join(tmpdir(), "foqus-stack-"));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
    let created = 0;
    const outputs = await applyStack({
      workDir,
      endpoint: moto.endpoint,
      onLine: (line) => {
        if (/Creation complete/.test(line) && ++created % 10 === 0)
          step(`  terraform: ${created} resources created`);
        else if (line.startsWith("terraform apply failed")) step(`  ${line}`);
      },
    });
    step(`terraform applied (${created} resources)`);

    const env = localEnvironment(outputs, moto.endpoint);
    applyEnvironment(env);

    const { runAdmin } = await import("../../cli/admin.ts");
    const user = "demo";
    const password = randomBytes(12).toString("base64url");
    // The operator's own command creates the demo user (foqus-admin add demo --plan free).
    await runAdmin(["add", user, "--plan", "free"], { password: async () => password });
    step(`demo user "${user}" created`);

    const gateway: Gateway = await startGateway({
      ...(options.apiPort !== undefined ? { port: options.apiPort } : {}),
      ...(tls ? { https: { key: tls.key, cert: tls.cert, port: options.httpsPort ?? 0 } } : {}),
      ...(options.logRequests ? { onRequest: (line: string) => log(`  api: ${line}`) } : {}),
    });
    cleanups.push(() => gateway.close());
    step(`API listening at ${gateway.url}${gateway.httpsUrl ? ` and ${gateway.httpsUrl}` : ""}`);

    const backend = await startBackendTriggers(outputs, {
      onError: (functionName, error) => log(`${functionName}: ${(error as Error).message}`),
    });
    cleanups.push(() => backend.stop());
    step(`update processor and submit publisher polling ${backend.sources} queues and streams`);

    const workers: ChildProcess[] = [];
    const workerQueue = outputs.job_queue_urls.linux ?? Object.values(outputs.job_queue_urls)[0] ?? "";
    // The real FOQUS, when this machine has it, turns the workers' foqus engine on.
    const foqus = findFoqusRuntime();
    const foqusEnv = foqusWorkerEnvironment(foqus);
    const addWorker = (extraEnv: Record<string, string> = {}) => {
      // WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the workers (a
      // profile of the worker's own CPU; NODE_OPTIONS refuses --cpu-prof).
      const nodeArgs = (process.env.WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
      const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", join(ROOT, "worker/main.ts")], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          JOB_QUEUE_URL: workerQueue,
          ...foqusEnv,
          WORKER_ID: `local-${workers.length + 1}`,
          ...options.workerEnv,
          ...extraEnv,
        },
        stdio: ["ignore", "inherit", "inherit"],
      });
      workers.push(child);
      return child;
    };
    cleanups.push(() => stopWorkers(workers));
    const count = options.workers ?? 0;
    for (let i = 0; i < count; i++) addWorker();
    if (count > 0) {
      step(`${count} worker process(es) started on the linux pool queue`);
      step(
        foqus.available
          ? `  they run FOQUS flowsheets (application foqus) with ${foqus.python}${foqus.foqusPath ? ` and ${foqus.foqusPath}` : ""}`
          : `  no worker runs FOQUS flowsheets (application foqus): ${foqus.reason}`,
      );
    }

    let turbineConfigFile: string | undefined;
    if (options.writeTurbineConfig && gateway.httpsUrl) {
      const credentials = { baseUrl: gateway.httpsUrl, user, password };
      writeTurbineConfig(LOCAL_TURBINE_CONFIG, credentials);
      turbineConfigFile = LOCAL_TURBINE_CONFIG;
      cleanups.push(() => removeTurbineConfig(LOCAL_TURBINE_CONFIG, credentials));
    }

    const stack: Stack = {
      apiUrl: gateway.url,
      httpsUrl: gateway.httpsUrl,
      caCertPath: gateway.httpsUrl ? tls?.caCertPath : undefined,
      httpsUnavailable,
      turbineConfigFile,
      user,
      password,
      awsEndpoint: moto.endpoint,
      outputs,
      terraformDir: workDir,
      moto,
      workers,
      addWorker,
      stop,
    };
    if (options.writeStackFile) {
      mkdirSync(dirname(STACK_FILE), { recursive: true });
      const written: LocalStack = {
        apiUrl: gateway.url,
        user,
        password,
        awsEndpoint: moto.endpoint,
        environment: env,
      };
      writeFileSync(STACK_FILE, `${JSON.stringify(written, null, 2)}\n`);
      chmodSync(STACK_FILE, 0o600);
      cleanups.push(() => rmSync(STACK_FILE, { force: true }));
    }
    step("stack ready");
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SIGTERM every worker (they finish or release their jobs), SIGKILL any still alive after 15 s. */
async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (child) =>
        new Promise<void>((resolveStop) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
          const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolveStop();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}

async function main(): Promise<void> {
  const stack = await startStack({
    apiPort: integerEnv("FOQUS_API_PORT", 8080),
    httpsPort: integerEnv("FOQUS_HTTPS_PORT", 8443),
    motoPort: integerEnv("MOTO_PORT", 5055),
    workers: integerEnv("FOQUS_WORKERS", 2),
    logRequests: true,
    writeStackFile: true,
    writeTurbineConfig: true,
  });
  const foqusLines =
    stack.httpsUrl && stack.caCertPath && stack.turbineConfigFile
      ? [
          `FOQUS desktop: Settings → Turbine → "Turbine Configuration (remote)" = ${stack.turbineConfigFile}`,
          "  and, in the shell that starts FOQUS:",
          `  export REQUESTS_CA_BUNDLE=${stack.caCertPath}`,
        ]
      : [`FOQUS desktop: unavailable here (it needs https: ${stack.httpsUnavailable ?? "not served"})`];
  console.log(
    [
      "",
      "FOQUS Cloud is running locally.",
      `  apiUrl      ${stack.apiUrl}`,
      ...(stack.httpsUrl ? [`  httpsUrl    ${stack.httpsUrl}`] : []),
      `  user        ${stack.user}`,
      `  password    ${stack.password}`,
      `  awsEndpoint ${stack.awsEndpoint}`,
      `  (also in ${STACK_FILE})`,
      ...foqusLines,
      `Try: curl -u ${stack.user}:${stack.password} ${stack.apiUrl}/application`,
      ...(stack.httpsUrl && stack.caCertPath
        ? [
            `     curl --cacert ${stack.caCertPath} -u ${stack.user}:${stack.password} ${stack.httpsUrl}/application`,
          ]
        : []),
      "Press Ctrl-C to stop.",
    ].join("\n"),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    await stack.stop();
    console.log("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`make local failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
