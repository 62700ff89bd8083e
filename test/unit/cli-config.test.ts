/**
 * Where `foqus-cloud` finds the API and the credentials: flags, the environment, its config file,
 * a FOQUS turbine_aws.cfg (the format `make local` writes), a running local stack, in that order,
 * never sending a saved password to another address; and the config file written with mode 0600.
 */
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { configFilePath, resolveConfig, writeConfigFile } from "../../cli/cloud-config.ts";
import { readTurbineCredentials } from "../../cli/turbine-cfg.ts";
import { turbineConfigText } from "../../local/env/turbine-config.ts";

// No running local stack may leak into these cases.
process.env.FOQUS_STACK_FILE = join(tmpdir(), "no-such-foqus-stack.json");

function sandbox() {
  const home = mkdtempSync(join(tmpdir(), "foqus-cloud-home-"));
  const cwd = mkdtempSync(join(tmpdir(), "foqus-cloud-cwd-"));
  return { home, cwd, env: { HOME: home } as Record<string, string | undefined> };
}

test("reads the address and credentials of a turbine_aws.cfg as FOQUS writes it", (t) => {
  const text = turbineConfigText({ baseUrl: "https://127.0.0.1:8443", user: "alice", password: "s3cret" });
  t.deepEqual(readTurbineCredentials(text), {
    url: "https://127.0.0.1:8443",
    user: "alice",
    password: "s3cret",
  });
  t.deepEqual(readTurbineCredentials("[Application]\nurl: https://api.example/prod/application/\n"), {
    url: "https://api.example/prod",
    user: undefined,
    password: undefined,
  });
  t.is(readTurbineCredentials("[Session]\nurl = x\n"), undefined);
});

test("login's file is written with mode 0600 and read back as the configuration", (t) => {
  const { env, cwd } = sandbox();
  const path = writeConfigFile({ url: "https://api.example/", user: "alice", password: "pw" }, env);
  t.is(path, configFilePath(env));
  t.is(statSync(path).mode & 0o777, 0o600);
  t.like(resolveConfig({}, env, cwd), {
    url: "https://api.example",
    user: "alice",
    password: "pw",
    source: path,
  });
});

test("flags and the environment come before the files, field by field", (t) => {
  const { env, cwd } = sandbox();
  writeConfigFile({ url: "https://api.example", user: "alice", password: "pw" }, env);
  env.FOQUS_CLOUD_USER = "bob";
  env.FOQUS_CLOUD_PASSWORD = "bobs";
  t.like(resolveConfig({}, env, cwd), { url: "https://api.example", user: "bob", password: "bobs" });
  t.like(resolveConfig({ user: "carol" }, env, cwd), { user: "carol", password: "bobs" });
});

test("a saved password goes only to its own address and its own user", (t) => {
  const { env, cwd } = sandbox();
  writeConfigFile({ url: "https://api.example", user: "alice", password: "pw" }, env);
  t.throws(() => resolveConfig({ url: "https://elsewhere.example" }, env, cwd), { message: /No user/ });
  t.throws(() => resolveConfig({ user: "mallory" }, env, cwd), { message: /No password/ });
  t.like(resolveConfig({ url: "https://api.example/" }, env, cwd), { user: "alice", password: "pw" });
});

test("the config file comes before a turbine_aws.cfg, which comes before nothing", (t) => {
  const { env, cwd } = sandbox();
  writeFileSync(
    join(cwd, "turbine_aws.cfg"),
    turbineConfigText({ baseUrl: "https://foqus.example", user: "fred", password: "fpw" }),
  );
  t.like(resolveConfig({}, env, cwd), {
    url: "https://foqus.example",
    user: "fred",
    source: join(cwd, "turbine_aws.cfg"),
  });
  writeConfigFile({ url: "https://api.example", user: "alice", password: "pw" }, env);
  t.like(resolveConfig({}, env, cwd), { url: "https://api.example", user: "alice" });
  // An address given explicitly skips the files that do not match it.
  t.like(resolveConfig({ url: "https://foqus.example" }, env, cwd), { user: "fred", password: "fpw" });
});

test("--turbine-config names the file; a missing one, or nothing at all, says what to do", (t) => {
  const { env, cwd } = sandbox();
  const dir = join(cwd, "foqus");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "remote.cfg"),
    turbineConfigText({ baseUrl: "https://x.example", user: "u", password: "p" }),
  );
  t.like(resolveConfig({ "turbine-config": "foqus/remote.cfg" }, env, cwd), { url: "https://x.example" });
  t.throws(() => resolveConfig({ "turbine-config": "nope.cfg" }, env, cwd), { message: /does not exist/ });
  t.throws(() => resolveConfig({}, env, cwd), { message: /foqus-cloud login --url/ });
});

test("XDG_CONFIG_HOME moves the config file", (t) => {
  t.is(configFilePath({ XDG_CONFIG_HOME: "/x", HOME: "/h" }), "/x/foqus-cloud/config.json");
  t.is(configFilePath({ HOME: "/h" }), "/h/.config/foqus-cloud/config.json");
});
