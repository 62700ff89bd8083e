/**
 * @module cli/foqus-cloud
 * `foqus-cloud`: the command line of the people who run the jobs, built on client/ (the one API
 * client and its result-page loop). Configuration: cli/cloud-config.ts. Runs and results:
 * cli/run-session.ts. Every failure becomes a message that says what to do and one of the
 * documented exit codes (cli/cli-errors.ts) here, in `runFoqusCloud`.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { ApiError, FoqusClient } from "../client/api-client.ts";
import { priceUsage, sessionUsage } from "../core/pricing/estimate-cost.ts";
import { ExitCodes, UsageError } from "./cli-errors.ts";
import { configFilePath, resolveConfig, writeConfigFile } from "./cloud-config.ts";
import { summaryTable } from "./progress.ts";
import {
  appendToSession,
  type CliIo,
  DEFAULT_CHUNK,
  type InterruptChoice,
  runSamples,
  watchSession,
  writeSessionResults,
} from "./run-session.ts";
import { parseFormat } from "./samples.ts";
import { filesToUpload, uploadFiles } from "./uploads.ts";

export const USAGE = `Usage: foqus-cloud <command> [options]

Runs:
  run SIMULATION --inputs samples.csv [--out results.csv]
                          create a session, append the samples, start, watch, write the results
Simulations:
  simulation create NAME --app APPLICATION      an empty simulation (GET /application lists them)
  simulation create NAME --foqus flowsheet.foqus
                          a FOQUS flowsheet, staged as FOQUS desktop stages it
  simulation upload NAME PATH [--as REMOTE]     a file, or a directory file by file (presigned)
  simulation list | show NAME | delete NAME
Sessions:
  session create | list
  session append SID --simulation NAME --inputs samples.csv [--start]
  session start SID | stop SID | kill SID | delete SID
  session status SID      jobs per state          session watch SID   live progress
  session results SID [--out results.csv] [--wait]
  cost SID [--instance-type t3.medium] [--windows] [--worker-concurrency 4]
Account:
  login [--url URL] [--user NAME]   check and save the credentials (password from stdin or a prompt)
  logout | whoami

Options:
  --inputs FILE|-         samples: CSV with a header (FOQUS: Node.var columns), or JSON lines
  --input-format csv|jsonl, --format csv|jsonl   default from the file's extension, else csv
  --out FILE|-            results (default standard output); the summary then goes to stdout
  --chunk N               jobs per append (default ${DEFAULT_CHUNK}, at most 1000)
  --on-interrupt ask|kill|leave   what Ctrl-C does to a run (default ask; leave without a terminal)
  --json                  machine-readable output
  --url URL, --user NAME, --turbine-config FILE   where the API is (see below)

Configuration, first to last: flags, FOQUS_CLOUD_URL / FOQUS_CLOUD_USER / FOQUS_CLOUD_PASSWORD,
~/.config/foqus-cloud/config.json (written by login, mode 0600), a FOQUS turbine_aws.cfg
(--turbine-config, FOQUS_TURBINE_CONFIG or ./turbine_aws.cfg), and a running \`make local\`.

Exit codes: 0 all jobs succeeded, 1 some failed, 2 usage, 3 API or network error, 130 Ctrl-C.`;

const OPTIONS = {
  url: { type: "string" },
  user: { type: "string" },
  "turbine-config": { type: "string" },
  inputs: { type: "string" },
  "input-format": { type: "string" },
  out: { type: "string" },
  format: { type: "string" },
  chunk: { type: "string" },
  simulation: { type: "string" },
  app: { type: "string" },
  foqus: { type: "string" },
  as: { type: "string" },
  start: { type: "boolean" },
  wait: { type: "boolean" },
  json: { type: "boolean" },
  "on-interrupt": { type: "string" },
  "instance-type": { type: "string" },
  windows: { type: "boolean" },
  "worker-concurrency": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Flags = ReturnType<typeof parseFlags>["values"];

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}.`);
  }
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`Missing ${what}; \`foqus-cloud help\` shows every command.`);
  return value;
}

function wholeNumber(raw: string | undefined, fallback: number, what: string, max = Number.MAX_SAFE_INTEGER) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, not "${raw}".`);
  return value;
}

function interruptChoice(raw: string | undefined): InterruptChoice {
  if (raw === undefined) return "ask";
  if (raw === "ask" || raw === "kill" || raw === "leave") return raw;
  throw new UsageError(`--on-interrupt must be ask, kill or leave, not "${raw}".`);
}

async function readSecret(
  io: CliIo,
  env: Record<string, string | undefined>,
  prompt: string,
): Promise<string> {
  if (env.FOQUS_CLOUD_PASSWORD) return env.FOQUS_CLOUD_PASSWORD;
  if (io.stdin.isTTY) {
    // Typed, not echoed: the terminal's echo is turned off while the line is read.
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    const muted = rl as unknown as { _writeToOutput?: (text: string) => void };
    io.stderr.write(prompt);
    muted._writeToOutput = () => undefined;
    const answer = await rl.question("");
    rl.close();
    io.stderr.write("\n");
    return answer;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function print(io: CliIo, json: boolean, value: unknown, text: string): void {
  io.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

async function login(io: CliIo, flags: Flags, env: Record<string, string | undefined>): Promise<number> {
  let known: { url?: string; user?: string } = {};
  try {
    known = resolveConfig({ ...flags }, env);
  } catch {
    // nothing saved yet
  }
  const url = flags.url ?? env.FOQUS_CLOUD_URL ?? known.url;
  if (!url) throw new UsageError("Which API? Run `foqus-cloud login --url https://<api>`.");
  let user = flags.user ?? env.FOQUS_CLOUD_USER ?? known.user;
  if (!user && io.stdin.isTTY) {
    const rl = createInterface({ input: io.stdin, output: io.stderr });
    user = (await rl.question("User: ")).trim();
    rl.close();
  }
  if (!user) throw new UsageError("Which user? Pass --user NAME (or set FOQUS_CLOUD_USER).");
  const password = await readSecret(io, env, "Password: ");
  if (!password)
    throw new UsageError(
      "No password given: type it at the prompt, pipe it in, or set FOQUS_CLOUD_PASSWORD.",
    );
  const client = new FoqusClient(url.replace(/\/+$/, ""), user, password);
  const account = await client.user();
  const path = writeConfigFile({ url, user, password }, env);
  print(
    io,
    flags.json ?? false,
    { url, user: account.Name, plan: account.Plan, config: path },
    `Logged in to ${url} as ${account.Name} (plan ${account.Plan}); saved to ${path} (mode 0600).`,
  );
  return ExitCodes.success;
}

async function simulationCommand(
  client: FoqusClient,
  io: CliIo,
  flags: Flags,
  args: string[],
): Promise<number> {
  const [action, name, path] = args;
  const json = flags.json ?? false;
  switch (action) {
    case "create": {
      const simulation = need(name, "the simulation's NAME");
      if (flags.foqus) {
        if (!existsSync(flags.foqus))
          throw new UsageError(`${flags.foqus} does not exist; name a FOQUS session file.`);
        await client.putSimulation(simulation, "foqus");
        const staged = await client.putInput(simulation, "configuration", readFileSync(flags.foqus));
        print(io, json, staged, `created ${simulation} (foqus) with ${flags.foqus} as its configuration`);
        return ExitCodes.success;
      }
      const created = await client.putSimulation(
        simulation,
        need(flags.app, "--app APPLICATION (or --foqus FILE)"),
      );
      print(io, json, created, `created ${created.Name} (${created.Application})`);
      return ExitCodes.success;
    }
    case "upload": {
      const simulation = await client.simulation(need(name, "the simulation's NAME"));
      const files = filesToUpload(need(path, "the PATH to upload"), flags.as);
      await uploadFiles(client, simulation.Name, simulation.Application, files, io.stderr);
      const updated = await client.simulation(simulation.Name);
      print(
        io,
        json,
        updated,
        `uploaded ${files.length} file${files.length === 1 ? "" : "s"} to ${updated.Name}: ${files.map((f) => f.remote).join(", ")}`,
      );
      return ExitCodes.success;
    }
    case "list": {
      const simulations = await client.simulations();
      const lines = simulations.map((s) => `${s.Name}\t${s.Application}\t${s.StagedInputs.length} staged`);
      print(io, json, simulations, lines.length > 0 ? lines.join("\n") : "no simulations yet");
      return ExitCodes.success;
    }
    case "show": {
      const simulation = await client.simulation(need(name, "the simulation's NAME"));
      print(
        io,
        json,
        simulation,
        [
          `${simulation.Name} (${simulation.Application})`,
          ...simulation.StagedInputs.map((p) => `  ${p}`),
        ].join("\n"),
      );
      return ExitCodes.success;
    }
    case "delete": {
      const deleted = await client.deleteSimulation(need(name, "the simulation's NAME"));
      print(io, json, deleted, `deleted ${deleted.Name}`);
      return ExitCodes.success;
    }
    default:
      throw new UsageError(
        `Unknown simulation command "${action ?? ""}": use create, upload, list, show or delete.`,
      );
  }
}

async function sessionCommand(client: FoqusClient, io: CliIo, flags: Flags, args: string[]): Promise<number> {
  const [action, sid] = args;
  const json = flags.json ?? false;
  const session = () => need(sid, "the session id (SID)");
  switch (action) {
    case "create": {
      const id = await client.createSession();
      print(io, json, id, id);
      return ExitCodes.success;
    }
    case "list": {
      const ids = await client.sessions();
      print(io, json, ids, ids.join("\n"));
      return ExitCodes.success;
    }
    case "append": {
      const appended = await appendToSession(client, io, session(), {
        simulation: need(flags.simulation, "--simulation NAME"),
        inputs: need(flags.inputs, "--inputs FILE"),
        inputFormat: parseFormat(flags["input-format"], "--input-format"),
        chunk: wholeNumber(flags.chunk, DEFAULT_CHUNK, "--chunk", 1000),
        start: flags.start ?? false,
      });
      print(
        io,
        json,
        { session: sid, appended },
        `appended ${appended} jobs to ${sid}${flags.start ? " and started them" : ""}`,
      );
      return ExitCodes.success;
    }
    case "start": {
      const submitted = await client.start(session());
      print(io, json, submitted, `started ${submitted.length} jobs`);
      return ExitCodes.success;
    }
    case "stop":
      await client.stop(session());
      print(io, json, sid, `stopped ${sid}: jobs not yet set up are paused; start it again to resume`);
      return ExitCodes.success;
    case "kill":
      await client.kill(session());
      print(io, json, sid, `killed ${sid}: every unfinished job is terminated`);
      return ExitCodes.success;
    case "delete": {
      const deleted = await client.deleteSession(session());
      print(io, json, deleted, `deleted ${sid} and its ${String(deleted)} jobs`);
      return ExitCodes.success;
    }
    case "status": {
      const summary = await client.sessionSummary(session());
      print(
        io,
        json,
        summary,
        summaryTable(summary.Counts, [
          ["session", `${summary.Session} (${summary.State}, created ${summary.Created})`],
        ]).trimEnd(),
      );
      return summary.Counts.success === summary.Jobs ? ExitCodes.success : ExitCodes.jobsFailed;
    }
    case "watch":
      return watchSession(client, io, session(), { json });
    case "results":
      return writeSessionResults(client, io, session(), {
        out: flags.out,
        format: parseFormat(flags.format, "--format"),
        wait: flags.wait ?? false,
        json,
      });
    default:
      throw new UsageError(
        `Unknown session command "${action ?? ""}": use create, list, append, start, stop, kill, status, watch, results or delete.`,
      );
  }
}

async function costCommand(client: FoqusClient, io: CliIo, flags: Flags, sid: string): Promise<number> {
  const jobs = await client.jobs(sid);
  const usage = sessionUsage(jobs, {
    workerConcurrency: wholeNumber(flags["worker-concurrency"], 4, "--worker-concurrency", 64),
  });
  let estimate: ReturnType<typeof priceUsage>;
  try {
    estimate = priceUsage(usage, {
      instanceType: flags["instance-type"] ?? (flags.windows ? "m5.large" : "t3.medium"),
      os: flags.windows ? "windows" : "linux",
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (flags.json) {
    print(io, true, { session: sid, usage, ...estimate }, "");
    return ExitCodes.success;
  }
  const w = Math.max(...estimate.lines.map((line) => line.service.length), 7);
  const lines = estimate.lines.map(
    (line) => `${line.service.padEnd(w)}  $${line.dollars.toFixed(6).padStart(11)}  ${line.usage}`,
  );
  io.stdout.write(
    [
      `Estimated AWS cost of session ${sid} (${usage.jobs} jobs):`,
      ...lines,
      `${"total".padEnd(w)}  $${estimate.total.toFixed(6).padStart(11)}`,
      `${estimate.region} list prices in ${estimate.currency}, checked ${estimate.checked} (core/pricing/prices.json); worker time as measured, requests per job as modelled; idle instances, storage and free tiers left out.`,
      "",
    ].join("\n"),
  );
  return ExitCodes.success;
}

async function dispatch(argv: string[], io: CliIo, env: Record<string, string | undefined>): Promise<number> {
  const { values: flags, positionals } = parseFlags(argv);
  const [command, ...args] = positionals;
  if (flags.help || !command || command === "help") {
    io.stdout.write(`${USAGE}\n`);
    return command || flags.help ? ExitCodes.success : ExitCodes.usage;
  }
  if (command === "login") return login(io, flags, env);
  if (command === "logout") {
    const path = configFilePath(env);
    rmSync(path, { force: true });
    print(io, flags.json ?? false, { removed: path }, `removed ${path}`);
    return ExitCodes.success;
  }
  const config = resolveConfig(flags, env);
  const client = new FoqusClient(config.url, config.user, config.password);
  switch (command) {
    case "whoami": {
      const account = await client.user();
      print(
        io,
        flags.json ?? false,
        { url: config.url, user: account.Name, plan: account.Plan, source: config.source },
        `${account.Name} (plan ${account.Plan}) at ${config.url}, from ${config.source}`,
      );
      return ExitCodes.success;
    }
    case "simulation":
      return simulationCommand(client, io, flags, args);
    case "session":
      return sessionCommand(client, io, flags, args);
    case "run":
      return runSamples(client, io, {
        simulation: need(args[0], "the SIMULATION to run"),
        inputs: need(flags.inputs, "--inputs FILE (CSV or JSON lines; - for standard input)"),
        inputFormat: parseFormat(flags["input-format"], "--input-format"),
        out: flags.out,
        format: parseFormat(flags.format, "--format"),
        chunk: wholeNumber(flags.chunk, DEFAULT_CHUNK, "--chunk", 1000),
        json: flags.json ?? false,
        onInterrupt: interruptChoice(flags["on-interrupt"]),
      });
    case "cost":
      return costCommand(client, io, flags, need(args[0], "the session id (SID)"));
    default:
      throw new UsageError(`Unknown command "${command}"; \`foqus-cloud help\` lists them.`);
  }
}

/** What went wrong, said so that the reader knows what to do next; and the exit code. */
export function describeFailure(error: unknown, url?: string): { message: string; code: number } {
  if (error instanceof UsageError) return { message: error.message, code: ExitCodes.usage };
  if (error instanceof ApiError) {
    const hint =
      error.status === 401
        ? " Check the user and password: run `foqus-cloud login` (or set FOQUS_CLOUD_USER and FOQUS_CLOUD_PASSWORD)."
        : error.status >= 500
          ? " The service failed; try again, and report it if it persists."
          : "";
    return { message: `${error.message}${hint}`, code: ExitCodes.api };
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? error.message;
    return {
      message: `Cannot reach the API${url ? ` at ${url}` : ""} (${why}). Check the address (\`foqus-cloud whoami\` shows the one in use; \`foqus-cloud login --url\` changes it); for https with a private CA set NODE_EXTRA_CA_CERTS to its certificate.`,
      code: ExitCodes.api,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: `Unexpected failure: ${message}`, code: ExitCodes.api };
}

/** Runs one command; answers its exit code. Never throws. */
export async function runFoqusCloud(
  argv: string[],
  io: CliIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  try {
    return await dispatch(argv, io, env);
  } catch (error) {
    let url: string | undefined;
    try {
      url = resolveConfig(parseFlags(argv).values, env).url;
    } catch {
      // no address to name
    }
    const { message, code } = describeFailure(error, url);
    io.stderr.write(`foqus-cloud: ${message}\n`);
    return code;
  }
}
