/**
 * The real `turbine` client, unchanged, against the local API over https: the vendored FOQUS
 * runtime (.local/foqus-runtime: the turbine package and FOQUS's turbineConfiguration) run by
 * Debian's /usr/bin/python3, trusting the checkout's own CA (local/env/tls.ts, .local/tls/)
 * through REQUESTS_CA_BUNDLE, configured by a turbine_aws.cfg written by the code `make local`
 * uses (local/env/turbine-config.ts). The client's command-line entry points (the `main_*`
 * functions that scripts/turbine_application_list, turbine_session_create and
 * turbine_session_list call) list applications, create a session and list sessions.
 *
 * Without the vendored runtime or openssl every test is skipped and the reason printed; with
 * FOQUS_REQUIRED=1 their absence fails instead.
 */
import { execFile, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { VENDORED_FOQUS_PATH } from "../../local/env/foqus-runtime.ts";
import { ensureLocalTls, type LocalTls } from "../../local/env/tls.ts";
import { turbineConfigText, writeTurbineConfig } from "../../local/env/turbine-config.ts";
import { type Gateway, startGateway } from "../../local/runtime/gateway.ts";
import { newUser, stopAll, type TestUser } from "../helpers/stack.ts";

const PYTHON = "/usr/bin/python3";
const required = process.env.FOQUS_REQUIRED === "1";
const scratch = mkdtempSync(join(tmpdir(), "foqus-turbine-https-"));

/** Why the vendored turbine client (and FOQUS's config reader) cannot run here, if it cannot. */
function turbineProblem(): string | undefined {
  const check = spawnSync(
    PYTHON,
    [
      "-c",
      "import requests, turbine.commands.turbine_application_script, turbine.commands.turbine_session_script, foqus_lib.framework.sim.turbineConfiguration",
    ],
    {
      cwd: scratch,
      env: { ...process.env, HOME: scratch, PYTHONPATH: VENDORED_FOQUS_PATH },
      encoding: "utf8",
    },
  );
  if (check.error) return `${PYTHON} cannot run: ${check.error.message}`;
  if (check.status !== 0) {
    const last = (check.stderr ?? "").trim().split("\n").slice(-1)[0] ?? "";
    return `${PYTHON} cannot import the turbine client from ${VENDORED_FOQUS_PATH} (run: bash local/env/foqus-runtime.sh): ${last}`;
  }
  return undefined;
}

const tlsResult = ensureLocalTls();
// The certificate test makes certificates, so the command itself must run (valid ones in
// .local/tls would be reused without it).
const opensslRuns = spawnSync("openssl", ["version"]).status === 0;
const opensslMissing = !tlsResult.available
  ? `https needs openssl: ${tlsResult.reason}`
  : opensslRuns
    ? undefined
    : "the openssl command does not run here (the certificate tests need it)";
const problem = opensslMissing ?? turbineProblem();
if (problem) {
  if (required) {
    test("the turbine client and openssl are available (FOQUS_REQUIRED=1)", (t) => {
      t.fail(`required but unavailable: ${problem}`);
    });
  } else {
    console.log(`turbine https tests skipped: ${problem}`);
  }
}
const withClient = problem ? test.skip : test.serial;
const withOpenssl = opensslMissing ? test.skip : test.serial;

let gateway: Gateway | undefined;
let user: TestUser | undefined;
let configFile = "";

const tls = (): LocalTls => {
  if (!tlsResult.available) throw new Error(tlsResult.reason);
  return tlsResult;
};

test.before(async () => {
  if (opensslMissing) return;
  gateway = await startGateway({ https: { key: tls().key, cert: tls().cert } });
  user = await newUser();
  configFile = join(scratch, "turbine_aws.cfg");
  writeTurbineConfig(configFile, {
    baseUrl: gateway.httpsUrl!,
    user: user.username,
    password: user.password,
  });
});
test.after.always(async () => {
  await gateway?.close();
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs Python on the vendored runtime, asynchronously: the gateway answering it lives in this
 * process. `trustCa: false` leaves the CA out (REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE unset).
 */
function python(code: string, args: string[], options: { trustCa?: boolean } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: scratch,
    PYTHONPATH: VENDORED_FOQUS_PATH,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    REQUESTS_CA_BUNDLE: tls().caCertPath,
  };
  if (options.trustCa === false) {
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
  }
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      ["-c", code, ...args],
      { cwd: scratch, env, timeout: 120_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code: status, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** One of the client's command-line entry points, `turbine.commands.<module>.<main>(argv)`. */
function turbine(module: string, main: string, args: string[], options: { trustCa?: boolean } = {}) {
  return python(
    `import sys\nfrom turbine.commands.${module} import ${main}\n${main}(sys.argv[1:])`,
    args,
    options,
  );
}

const lastLine = (text: string) => text.trim().split("\n").slice(-1)[0] ?? "";
const fingerprint = (pem: Buffer) => new X509Certificate(pem).fingerprint256;

withOpenssl(
  "the CA and server certificate are reused while valid, the server one renewed a week before it expires",
  (t) => {
    const dir = join(scratch, "tls");
    const first = ensureLocalTls({ dir });
    if (!first.available) return t.fail(first.reason);
    t.is(first.generated, "ca+server");
    for (const key of [first.keyPath, join(dir, "ca-key.pem")]) t.is(statSync(key).mode & 0o777, 0o600);
    const server = new X509Certificate(first.cert);
    t.truthy(server.checkIP("127.0.0.1"));
    t.truthy(server.checkHost("localhost"));
    t.true(server.checkIssued(new X509Certificate(first.ca)));

    const again = ensureLocalTls({ dir });
    if (!again.available) return t.fail(again.reason);
    t.is(again.generated, "none");
    t.is(fingerprint(again.cert), server.fingerprint256);

    // A server certificate with three days left is replaced; the CA stays.
    rmSync(first.certPath);
    const short = ensureLocalTls({ dir, serverDays: 3 });
    if (!short.available) return t.fail(short.reason);
    t.is(short.generated, "server");
    const renewed = ensureLocalTls({ dir });
    if (!renewed.available) return t.fail(renewed.reason);
    t.is(renewed.generated, "server");
    t.not(fingerprint(renewed.cert), fingerprint(short.cert));
    t.is(fingerprint(renewed.ca), fingerprint(first.ca));
    t.true(Date.parse(renewed.serverValidTo) - Date.now() > 7 * 24 * 3600 * 1000);
  },
);

/** A GET over https trusting only the checkout's CA. */
function httpsGet(url: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: tls().ca, ...(auth ? { auth } : {}) }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      response.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

withOpenssl("one gateway serves http and https through the same handler", async (t) => {
  const { httpUrl, httpsUrl } = gateway!;
  t.regex(httpUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
  t.regex(httpsUrl ?? "", /^https:\/\/127\.0\.0\.1:\d+$/);
  const auth = `${user!.username}:${user!.password}`;
  const plain = await fetch(`${httpUrl}/application`, {
    headers: { authorization: `Basic ${Buffer.from(auth).toString("base64")}` },
  });
  const secure = await httpsGet(`${httpsUrl}/application`, auth);
  t.is(plain.status, 200);
  t.is(secure.status, 200);
  t.deepEqual(JSON.parse(secure.body), await plain.json());
  t.is((await httpsGet(`${httpsUrl}/application`)).status, 401);
  t.regex(String((await httpsGet(`${httpsUrl}/application`, `${user!.username}:wrong`)).status), /^40[13]$/);
});

withClient(
  "FOQUS reads the cfg as a Remote https config, keeps the credentials and rewrites it unchanged",
  async (t) => {
    const copy = join(scratch, "foqus-read.cfg");
    const written = writeTurbineConfig(copy, {
      baseUrl: gateway!.httpsUrl!,
      user: user!.username,
      password: user!.password,
    });
    t.is(statSync(copy).mode & 0o777, 0o600);
    const run = await python(
      [
        "import sys, json",
        "from foqus_lib.framework.sim.turbineConfiguration import TurbineConfiguration",
        "tc = TurbineConfiguration(sys.argv[1])",
        "tc.readConfig()",
        "errors = tc.testConfig(writeConfig=False)",
        "print(json.dumps({'address': tc.address, 'turbVer': tc.turbVer, 'user': tc.user, 'pwd': tc.pwd, 'errors': errors}))",
      ].join("\n"),
      [copy],
    );
    t.is(run.code, 0, run.stderr);
    const read = JSON.parse(lastLine(run.stdout)) as Record<string, unknown>;
    t.deepEqual(read, {
      address: gateway!.httpsUrl,
      turbVer: "Remote",
      user: user!.username,
      pwd: user!.password,
      errors: [],
    });
    // readConfig writes the file back from what it parsed: the same bytes, so ours is FOQUS's form.
    t.is(readFileSync(copy, "utf8"), written);
  },
);

withClient("the turbine client lists applications over https", async (t) => {
  const run = await turbine("turbine_application_script", "main_list", [configFile]);
  t.is(run.code, 0, run.stderr);
  const names = (JSON.parse(lastLine(run.stdout)) as { Name: string }[]).map((app) => app.Name);
  t.true(names.includes("foqus"), names.join(","));
});

withClient("the turbine client creates a session and lists it, as the cfg's user", async (t) => {
  const created = await turbine("turbine_session_script", "main_create_session", [configFile]);
  t.is(created.code, 0, created.stderr);
  const sid = JSON.parse(lastLine(created.stdout)) as string;
  t.regex(sid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

  const listed = await turbine("turbine_session_script", "main_list", [configFile]);
  t.is(listed.code, 0, listed.stderr);
  t.true((JSON.parse(lastLine(listed.stdout)) as string[]).includes(sid));
  // The credentials reached the server: the session is the test user's own.
  t.true((await user!.client.sessions()).includes(sid));
});

withClient("a wrong password in the cfg gives the client's HTTP status failure", async (t) => {
  const wrong = join(scratch, "wrong-password.cfg");
  writeTurbineConfig(wrong, {
    baseUrl: gateway!.httpsUrl!,
    user: user!.username,
    password: "not-the-password",
  });
  const run = await turbine("turbine_application_script", "main_list", [wrong]);
  t.not(run.code, 0);
  t.regex(run.stderr, /HTTPStatusCode/);
  // Refused by the authorizer (401 or 403, whichever the API answers for bad credentials).
  t.regex(run.stderr, /HTTP\(40[13]\)/);
});

withClient("without the CA in REQUESTS_CA_BUNDLE the client refuses the certificate", async (t) => {
  const run = await turbine("turbine_application_script", "main_list", [configFile], { trustCa: false });
  t.not(run.code, 0);
  t.regex(run.stderr, /CERTIFICATE_VERIFY_FAILED/);
});

test("the cfg is refused for an http URL (FOQUS would drop the credentials)", (t) => {
  t.throws(() => turbineConfigText({ baseUrl: "http://127.0.0.1:8080", user: "u", password: "p" }), {
    message: /https/,
  });
});
