/**
 * @module cli/cloud-config
 * Where `foqus-cloud` finds the API and the credentials, first to last:
 *
 *   1. flags (`--url`, `--user`; never a password: argv is visible to every user of the machine)
 *   2. the environment (FOQUS_CLOUD_URL, FOQUS_CLOUD_USER, FOQUS_CLOUD_PASSWORD)
 *   3. the config file `foqus-cloud login` writes ($XDG_CONFIG_HOME or ~/.config, then
 *      foqus-cloud/config.json, mode 0600)
 *   4. a FOQUS `turbine_aws.cfg` (`--turbine-config`, FOQUS_TURBINE_CONFIG, or ./turbine_aws.cfg)
 *   5. a running local stack (`.local/stack.json`, through cli/local-stack.ts)
 *
 * Flags and the environment override field by field. Of the files, the first that exists and
 * agrees with the address given above it (or any, when none was given) fills in what is still
 * missing; its password is used only for its own user. So a password is never sent to an
 * address other than the one it was saved for.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "./cli-errors.ts";
import { readLocalStack } from "./local-stack.ts";
import { readTurbineCredentials } from "./turbine-cfg.ts";

export interface CloudConfig {
  url: string;
  user: string;
  password: string;
  /** Where the address came from, for `whoami` and error messages. */
  source: string;
}

export interface ConfigFlags {
  url?: string | undefined;
  user?: string | undefined;
  "turbine-config"?: string | undefined;
}

type Env = Record<string, string | undefined>;

interface Candidate {
  url?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  source: string;
}

/** `$XDG_CONFIG_HOME/foqus-cloud/config.json`, else `~/.config/foqus-cloud/config.json`. */
export function configFilePath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "foqus-cloud", "config.json");
}

const normalizeUrl = (url: string): string => url.trim().replace(/\/+$/, "");

function readConfigFile(path: string): Candidate | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: { url?: unknown; user?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as typeof parsed;
  } catch (error) {
    throw new UsageError(
      `${path} is not valid JSON (${(error as Error).message}); run \`foqus-cloud login\` to write it again.`,
    );
  }
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  return { url: text(parsed.url), user: text(parsed.user), password: text(parsed.password), source: path };
}

function readTurbineFile(path: string): Candidate | undefined {
  if (!existsSync(path)) return undefined;
  const credentials = readTurbineCredentials(readFileSync(path, "utf8"));
  return credentials ? { ...credentials, source: path } : undefined;
}

/** The candidate files in order (each read only when reached). */
function fileCandidates(flags: ConfigFlags, env: Env, cwd: string): (() => Candidate | undefined)[] {
  const turbine = flags["turbine-config"] ?? env.FOQUS_TURBINE_CONFIG;
  return [
    () => readConfigFile(configFilePath(env)),
    () => {
      if (turbine) {
        const path = resolve(cwd, turbine);
        if (!existsSync(path)) throw new UsageError(`The turbine config ${path} does not exist.`);
        return readTurbineFile(path);
      }
      return readTurbineFile(join(cwd, "turbine_aws.cfg"));
    },
    () => {
      const local = readLocalStack();
      return local
        ? {
            url: local.apiUrl,
            user: local.user,
            password: local.password,
            source: "the local stack (make local)",
          }
        : undefined;
    },
  ];
}

/** The effective configuration, or a UsageError that says how to provide what is missing. */
export function resolveConfig(flags: ConfigFlags, env: Env = process.env, cwd = process.cwd()): CloudConfig {
  const given = {
    url: flags.url ?? env.FOQUS_CLOUD_URL,
    user: flags.user ?? env.FOQUS_CLOUD_USER,
    password: env.FOQUS_CLOUD_PASSWORD,
  };
  let url = given.url ? normalizeUrl(given.url) : undefined;
  let user = given.user;
  let password = given.password;
  let source = flags.url ? "--url" : given.url ? "FOQUS_CLOUD_URL" : "";
  for (const read of fileCandidates(flags, env, cwd)) {
    if (url && user && password) break;
    const candidate = read();
    if (!candidate?.url) continue;
    if (url && normalizeUrl(candidate.url) !== url) continue;
    if (!url) {
      url = normalizeUrl(candidate.url);
      source = candidate.source;
    }
    user ??= candidate.user;
    if (!password && candidate.password && candidate.user === user) password = candidate.password;
    break;
  }
  if (!url) {
    throw new UsageError(
      "No API address: run `foqus-cloud login --url https://<api>` once, or set FOQUS_CLOUD_URL (and FOQUS_CLOUD_USER, FOQUS_CLOUD_PASSWORD), or run inside a checkout where `make local` is running.",
    );
  }
  if (!user || !password) {
    throw new UsageError(
      `No ${user ? "password" : "user"} for ${url}: run \`foqus-cloud login --url ${url}\`, or set ${user ? "FOQUS_CLOUD_PASSWORD" : "FOQUS_CLOUD_USER and FOQUS_CLOUD_PASSWORD"}.`,
    );
  }
  return { url, user, password, source };
}

/** Writes the config file with mode 0600 (never readable by others, even for a moment). */
export function writeConfigFile(
  config: { url: string; user: string; password: string },
  env: Env = process.env,
) {
  const path = configFilePath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.${process.pid}.tmp`;
  const text = `${JSON.stringify({ url: normalizeUrl(config.url), user: config.user, password: config.password }, null, 2)}\n`;
  writeFileSync(partial, text, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, path);
  return path;
}
