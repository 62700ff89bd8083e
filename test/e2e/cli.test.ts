/**
 * `foqus-cloud` against the local stack, as a user runs it: the real command (bin/foqus-cloud.mjs)
 * in its own process, talking HTTP to the local API, with real worker processes. Covers login and
 * the configuration file, simulations (a directory uploaded through presigned URLs), sessions,
 * an 800-row CSV `run` (three appends, two result pages) checked row by row, Ctrl-C, exit codes and messages, the cost estimate,
 * and a FOQUS flowsheet run where FOQUS is available.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parseCsv } from "../../cli/csv.ts";
import { api, newUser, startUpdateProcessor, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";
import { clearJobQueues, foqusRuntime, startWorker, type TestWorker } from "../helpers/workers.ts";

const BIN = fileURLToPath(new URL("../../bin/foqus-cloud.mjs", import.meta.url));
const FLOWSHEET = fileURLToPath(new URL("../../worker/apps/flowsheets/mix-scale.foqus", import.meta.url));

const workers: TestWorker[] = [];
test.before(async () => {
  await clearJobQueues();
  await startUpdateProcessor();
  workers.push(startWorker({ WORKER_CONCURRENCY: "8" }));
});
test.after.always(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await stopAll();
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh home (no saved configuration) and no local stack file for each command line. */
function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), "foqus-cloud-home-"));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !key.startsWith("FOQUS_CLOUD_")) env[key] = value;
  return { ...env, HOME: home, XDG_CONFIG_HOME: "", FOQUS_STACK_FILE: join(home, "none.json"), ...extra };
}

async function userEnv(user: TestUser): Promise<Record<string, string>> {
  const { url } = await api();
  return isolatedEnv({
    FOQUS_CLOUD_URL: url,
    FOQUS_CLOUD_USER: user.username,
    FOQUS_CLOUD_PASSWORD: user.password,
  });
}

function start(args: string[], env: Record<string, string>, input?: string, cwd?: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env,
    cwd: cwd ?? tmpdir(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  return child;
}

function collect(child: ChildProcess): Promise<Result> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const cli = (args: string[], env: Record<string, string>, input?: string, cwd?: string) =>
  collect(start(args, env, input, cwd));

async function csvRows(text: string): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const row of parseCsv(Readable.from([text]))) rows.push(row);
  return rows;
}

function workDir(): string {
  return mkdtempSync(join(tmpdir(), "foqus-cloud-work-"));
}

test.serial(
  "login checks and saves the credentials (mode 0600); later commands need nothing else",
  async (t) => {
    const user = await newUser();
    const { url } = await api();
    const env = isolatedEnv();

    const wrong = await cli(["login", "--url", url, "--user", user.username], env, "not-the-password\n");
    t.is(wrong.code, 3, wrong.stderr);
    t.regex(wrong.stderr, /401/);
    t.regex(wrong.stderr, /foqus-cloud login/);

    const login = await cli(["login", "--url", url, "--user", user.username], env, `${user.password}\n`);
    t.is(login.code, 0, login.stderr);
    const file = join(env.HOME!, ".config/foqus-cloud/config.json");
    t.is(statSync(file).mode & 0o777, 0o600);
    t.deepEqual(JSON.parse(readFileSync(file, "utf8")), {
      url,
      user: user.username,
      password: user.password,
    });
    t.notRegex(login.stdout + login.stderr, new RegExp(user.password));

    const whoami = await cli(["whoami", "--json"], env);
    t.is(whoami.code, 0, whoami.stderr);
    t.like(JSON.parse(whoami.stdout), { user: user.username, plan: "free", url, source: file });

    t.is((await cli(["logout"], env)).code, 0);
    const after = await cli(["whoami"], env);
    t.is(after.code, 2);
    t.regex(after.stderr, /foqus-cloud login --url/);
  },
);

test.serial(
  "simulations: create, upload a directory through presigned URLs, list, show, delete",
  async (t) => {
    const user = await newUser();
    const env = await userEnv(user);
    const sim = uniqueName("sim");
    const dir = workDir();
    mkdirSync(join(dir, "data/nested"), { recursive: true });
    writeFileSync(join(dir, "data/model.json"), '{"k": 3}');
    writeFileSync(join(dir, "data/nested/table.csv"), "a,b\n1,2\n");
    writeFileSync(join(dir, "data/readme.txt"), "x".repeat(200_000));

    const created = await cli(["simulation", "create", sim, "--app", "fake"], env);
    t.is(created.code, 0, created.stderr);
    const upload = await cli(["simulation", "upload", sim, join(dir, "data"), "--as", "inputs"], env);
    t.is(upload.code, 0, upload.stderr);
    t.false(upload.stderr.includes("\u001b["), "no progress drawing when stderr is not a terminal");

    const shown = await cli(["simulation", "show", sim, "--json"], env);
    t.deepEqual((JSON.parse(shown.stdout) as { StagedInputs: string[] }).StagedInputs.sort(), [
      "inputs/model.json",
      "inputs/nested/table.csv",
      "inputs/readme.txt",
    ]);
    const stored = await user.call("GET", `/simulation/${sim}/input/inputs/nested/table.csv`);
    t.is(await stored.text(), "a,b\n1,2\n");
    t.is(
      (await (await user.call("GET", `/simulation/${sim}/input/inputs/readme.txt`)).text()).length,
      200_000,
    );

    const listed = await cli(["simulation", "list"], env);
    t.regex(listed.stdout, new RegExp(`^${sim}\\tfake\\t3 staged$`, "m"));
    t.is((await cli(["simulation", "delete", sim], env)).code, 0);
    const gone = await cli(["simulation", "show", sim], env);
    t.is(gone.code, 3);
    t.regex(gone.stderr, /SimulationNotFound|does not exist/);
  },
);

test.serial("run takes an 800-row CSV to a CSV of results in input order, checked row by row", async (t) => {
  const user = await newUser();
  const env = await userEnv(user);
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const dir = workDir();
  // Three appends of 300 and more than one result page (500 records at most): the paths a
  // 100,000-row file takes, at a size make test can afford (the benchmark runs the big ones).
  const ROWS = 800;
  const failing = (i: number) => i % 97 === 13;
  const lines = ["x,label,fail"];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},"row ${i}, quoted",${failing(i) ? "true" : ""}`);
  writeFileSync(join(dir, "samples.csv"), `${lines.join("\n")}\n`);

  const run = await cli(
    ["run", sim, "--inputs", "samples.csv", "--out", "results.csv", "--chunk", "300"],
    env,
    undefined,
    dir,
  );

  t.is(run.code, 1, `some jobs fail on purpose: exit 1\n${run.stderr}`);
  t.false(
    run.stderr.includes("\u001b[") || run.stderr.includes("\r"),
    "no progress drawing when stderr is not a terminal",
  );
  const errors = Array.from({ length: ROWS }, (_, i) => i).filter(failing).length;
  t.regex(run.stdout, new RegExp(`^success\\s+${ROWS - errors}\\s`, "m"));
  t.regex(run.stdout, new RegExp(`^error\\s+${errors}\\s`, "m"));
  t.regex(run.stdout, new RegExp(`^total\\s+${ROWS}`, "m"));
  const rows = await csvRows(readFileSync(join(dir, "results.csv"), "utf8"));
  t.deepEqual(rows[0], ["x", "label", "fail", "output.x", "output.label", "State", "graphError", "Message"]);
  t.is(rows.length, ROWS + 1);
  let checked = 0;
  for (let i = 0; i < ROWS; i++) {
    const row = rows[i + 1]!;
    if (failing(i)) {
      t.deepEqual(row.slice(0, 3), [String(i), `row ${i}, quoted`, "true"]);
      t.deepEqual(row.slice(5), ["error", "1", "The fake engine failed this job on purpose."]);
    } else if (
      row.join("|") !==
      [String(i), `row ${i}, quoted`, "", String(i), `row ${i}, quoted`, "success", "0", ""].join("|")
    ) {
      t.fail(`row ${i + 1} is ${JSON.stringify(row)}`);
    }
    checked++;
  }
  t.is(checked, ROWS);

  // The same session's results again, in append order, and its jobs per state.
  const sid = /^session\s+(\S+)/m.exec(run.stdout)?.[1] ?? "";
  const results = await cli(["session", "results", sid, "--format", "csv"], env);
  t.is(results.code, 1);
  const again = await csvRows(results.stdout);
  t.is(again.length, ROWS + 1);
  t.deepEqual(again[1]?.slice(0, 2), ["0", "row 0, quoted"]);
  t.deepEqual(again[ROWS]?.slice(0, 2), [String(ROWS - 1), `row ${ROWS - 1}, quoted`]);
  const status = await cli(["session", "status", sid, "--json"], env);
  t.like(JSON.parse(status.stdout), {
    Jobs: ROWS,
    Finished: ROWS,
    Counts: { success: ROWS - errors, error: errors },
  });
});

test.serial("run with JSON lines in and out, all successful: exit 0 and a JSON summary", async (t) => {
  const user = await newUser();
  const env = await userEnv(user);
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const samples = Array.from({ length: 40 }, (_, i) => JSON.stringify({ x: i, nested: { y: [i, i] } })).join(
    "\n",
  );

  const run = await cli(
    ["run", sim, "--inputs", "-", "--input-format", "jsonl", "--format", "jsonl", "--json"],
    env,
    samples,
  );

  t.is(run.code, 0, run.stderr);
  const lines = run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.is(lines.length, 40);
  lines.forEach((line, i) => {
    t.like(line, { State: "success", Input: { x: i, nested: { y: [i, i] } }, Output: { output: { x: i } } });
  });
  const summary = JSON.parse(run.stderr.trim().split("\n").pop()!) as {
    jobs: number;
    counts: { success: number };
  };
  t.is(summary.jobs, 40);
  t.is(summary.counts.success, 40);
});

test.serial("session commands: create, append, status, start, watch, results, cost, delete", async (t) => {
  const user = await newUser();
  const env = await userEnv(user);
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const dir = workDir();
  writeFileSync(join(dir, "a.csv"), "x\n1\n2\n3\n");
  writeFileSync(join(dir, "b.jsonl"), '{"x": 4}\n{"x": 5}\n');

  const sid = (await cli(["session", "create"], env)).stdout.trim();
  t.regex(sid, /^[0-9a-f-]{36}$/);
  t.is(
    (await cli(["session", "append", sid, "--simulation", sim, "--inputs", join(dir, "a.csv")], env)).code,
    0,
  );
  const second = await cli(
    ["session", "append", sid, "--simulation", sim, "--inputs", join(dir, "b.jsonl"), "--json"],
    env,
  );
  t.like(JSON.parse(second.stdout), { session: sid, appended: 2 });
  const created = await cli(["session", "status", sid, "--json"], env);
  t.is(created.code, 1, "not every job succeeded (yet)");
  t.like(JSON.parse(created.stdout), { Jobs: 5, Counts: { create: 5 } });
  t.regex((await cli(["session", "start", sid], env)).stdout, /started 5 jobs/);
  const watch = await cli(["session", "watch", sid], env);
  t.is(watch.code, 0, watch.stderr);
  t.regex(watch.stdout, /^success\s+5\s+100\.0%/m);

  const out = join(dir, "results.csv");
  const results = await cli(["session", "results", sid, "--out", out], env);
  t.is(results.code, 0, results.stderr);
  t.regex(results.stdout, /5 results written/);
  const rows = await csvRows(readFileSync(out, "utf8"));
  t.deepEqual(
    rows.map((row) => row.slice(0, 3)),
    [
      ["x", "output.x", "State"],
      ["1", "1", "success"],
      ["2", "2", "success"],
      ["3", "3", "success"],
      ["4", "4", "success"],
      ["5", "5", "success"],
    ],
  );

  const listed = await cli(["session", "list"], env);
  t.regex(listed.stdout, new RegExp(sid));
  const estimate = await cli(["cost", sid, "--json"], env);
  t.is(estimate.code, 0, estimate.stderr);
  const priced = JSON.parse(estimate.stdout) as { usage: { jobs: number }; total: number; region: string };
  t.is(priced.usage.jobs, 5);
  t.true(priced.total > 0);
  t.is(priced.region, "us-east-1");
  t.regex((await cli(["cost", sid], env)).stdout, /^total\s+\$/m);

  t.regex((await cli(["session", "delete", sid], env)).stdout, /deleted .* 5 jobs/);
  const gone = await cli(["session", "status", sid], env);
  t.is(gone.code, 3);
  t.regex(gone.stderr, /SessionNotFound|does not exist/);
});

test.serial("usage, API and network errors exit 2 and 3 with a message that says what to do", async (t) => {
  const user = await newUser();
  const env = await userEnv(user);
  const cases: [string[], number, RegExp, Record<string, string>?][] = [
    [["frobnicate"], 2, /Unknown command "frobnicate"/],
    [["run", "sim"], 2, /--inputs/],
    [
      ["run", "sim", "--inputs", "/no/such/samples.csv"],
      2,
      /Cannot read \/no\/such\/samples\.csv: no such file/,
    ],
    [["session", "append", "x", "--inputs", "a.csv"], 2, /--simulation/],
    [["run", "sim", "--inputs", "-", "--chunk", "5000"], 2, /--chunk must be a whole number from 1 to 1000/],
    [["--bogus-flag"], 2, /Unknown option/],
    [["run", "no-such-sim", "--inputs", "-"], 3, /foqus-cloud simulation create no-such-sim/],
    [["session", "status", "00000000-0000-4000-8000-000000000000"], 3, /does not exist for this user/],
    [["whoami"], 3, /foqus-cloud login/, { FOQUS_CLOUD_PASSWORD: "wrong" }],
    [
      ["whoami"],
      3,
      /Cannot reach the API at http:\/\/127\.0\.0\.1:9/,
      { FOQUS_CLOUD_URL: "http://127.0.0.1:9" },
    ],
  ];
  for (const [args, code, message, extra] of cases) {
    const result = await cli(args, { ...env, ...extra }, "");
    t.is(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    t.regex(result.stderr, message, args.join(" "));
  }
});

async function waitForSession(user: TestUser, jobs: number): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [sid] = await user.client.sessions();
    if (sid && (await user.client.sessionSummary(sid)).Counts.running >= 1) {
      if ((await user.client.sessionSummary(sid)).Jobs >= jobs) return sid;
    }
    if (Date.now() > deadline) throw new Error("the run's session never had running jobs");
    await sleep(200);
  }
}

for (const choice of ["leave", "kill"] as const) {
  test.serial(
    `Ctrl-C during a run (--on-interrupt ${choice}) says how to come back and ${choice}s the session`,
    async (t) => {
      const user = await newUser();
      const env = await userEnv(user);
      const sim = uniqueName("sim");
      await user.client.putSimulation(sim, "fake");
      const samples = ["delayMs", ...Array.from({ length: 4 }, () => "600000")].join("\n");
      const child = start(["run", sim, "--inputs", "-", "--on-interrupt", choice], env, `${samples}\n`);
      const done = collect(child);
      const sid = await waitForSession(user, 4);

      child.kill("SIGINT");
      const result = await done;

      t.is(result.code, 130, result.stderr);
      t.regex(result.stderr, new RegExp(`foqus-cloud session results ${sid}`));
      if (choice === "leave") {
        t.regex(result.stderr, new RegExp(`foqus-cloud session watch ${sid}`));
        t.regex(result.stderr, /keeps running/);
        const summary = await user.client.sessionSummary(sid);
        t.is(summary.State, "open");
        t.is(summary.Counts.terminate, 0);
        await user.client.kill(sid); // leave nothing running for the next test
      } else {
        t.regex(result.stderr, /Killed session/);
        t.is((await user.client.sessionSummary(sid)).State, "killed");
      }
    },
  );
}

if (!foqusRuntime.available) {
  const { reason } = foqusRuntime;
  if (process.env.FOQUS_REQUIRED === "1")
    test("FOQUS is available (FOQUS_REQUIRED=1)", (t) => t.fail(reason));
  else console.log(`foqus-cloud flowsheet run skipped: ${reason}`);
}
const foqus = foqusRuntime.available ? test.serial : test.skip;

foqus("a FOQUS flowsheet: simulation create --foqus, then run a CSV of Node.var samples", async (t) => {
  const user = await newUser();
  const env = await userEnv(user);
  const sim = uniqueName("mixscale").replace(/-/g, "_");
  const created = await cli(["simulation", "create", sim, "--foqus", FLOWSHEET], env);
  t.is(created.code, 0, created.stderr);
  t.deepEqual((await user.client.simulation(sim)).StagedInputs, ["configuration"]);
  const dir = workDir();
  const ROWS = 30;
  writeFileSync(
    join(dir, "samples.csv"),
    ["Mix.x", ...Array.from({ length: ROWS }, (_, i) => String(i))].join("\n"),
  );

  const run = await cli(["run", sim, "--inputs", "samples.csv", "--out", "results.csv"], env, undefined, dir);

  t.is(run.code, 0, run.stderr);
  const rows = await csvRows(readFileSync(join(dir, "results.csv"), "utf8"));
  const header = rows[0]!;
  t.deepEqual(header.slice(0, 1), ["Mix.x"]);
  t.deepEqual(header.slice(-3), ["State", "graphError", "Message"]);
  const column = (name: string) => header.indexOf(name);
  for (const name of ["Mix.s", "Mix.p", "Scale.r"])
    t.true(column(name) > 0, `${name} in ${header.join(",")}`);
  t.is(rows.length, ROWS + 1);
  rows.slice(1).forEach((row, x) => {
    t.is(row[column("Mix.x")], String(x));
    t.is(Number(row[column("Mix.s")]), x + 2);
    t.is(Number(row[column("Mix.p")]), 2 * x);
    t.is(Number(row[column("Scale.r")]), 3 * (x + 2));
    t.is(row[column("State")], "success");
    t.is(row[column("graphError")], "0");
  });
});
