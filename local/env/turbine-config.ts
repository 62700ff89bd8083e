/**
 * @module local/env/turbine-config
 * The `turbine_aws.cfg` that FOQUS desktop and the `turbine` client read, pointing at a local
 * stack. It is written in exactly the form FOQUS writes itself (foqus_lib/framework/sim/
 * turbineConfiguration.py, `turbineConfigParse`), because FOQUS's `readConfig` rewrites the file
 * from what it parsed every time it loads it:
 *
 *   [Consumer] [Job] [Simulation] [Session] [Application]   url = <base>/<resource>/
 *   [Simulation]       SignedUrl = True      (FOQUS's "Remote" mode, any address not ending in "lite")
 *   [Authentication]   username, password    (turbine/commands/requests_base.py `read_configuration`)
 *
 * FOQUS finds the base address by cutting `[Application] url` at its `application` segment and
 * blanks the credentials when that address starts with `http://`: the base must be https.
 * `[Job] url` must end in `/job/` (FOQUS's `readConfigPeek` cuts 5 characters). The file holds a
 * password, so it is written with mode 0600.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** `.local/turbine_aws.cfg` at the checkout's root (FOQUS's default name for a remote config). */
export const LOCAL_TURBINE_CONFIG = resolve(
  fileURLToPath(new URL("../../.local/turbine_aws.cfg", import.meta.url)),
);

export interface TurbineConfigOptions {
  /** The API's https base URL, e.g. `https://127.0.0.1:8443` (no trailing slash needed). */
  baseUrl: string;
  user: string;
  password: string;
}

/**
 * A value as FOQUS and the client read it back unchanged: configparser strips surrounding
 * whitespace and ends a value at a line break, and FOQUS reads the password with `%`
 * interpolation (and cannot write one containing `%`).
 */
function checkValue(name: string, value: string): void {
  if (value === "" || value !== value.trim() || /[\r\n%]/.test(value))
    throw new Error(
      `turbine_aws.cfg: the ${name} must be non-empty, without surrounding spaces, line breaks or "%"`,
    );
}

/** The file's text, section for section as FOQUS writes it (configparser's `key = value`). */
export function turbineConfigText(options: TurbineConfigOptions): string {
  const base = options.baseUrl.replace(/\/+$/, "");
  const url = new URL(base);
  if (url.protocol !== "https:")
    throw new Error(`turbine_aws.cfg needs an https URL (FOQUS drops the credentials on http): ${base}`);
  if (url.search || url.hash) throw new Error(`turbine_aws.cfg: the base URL takes no query: ${base}`);
  checkValue("user", options.user);
  checkValue("password", options.password);
  const sections: [string, [string, string][]][] = [
    ["Consumer", [["url", `${base}/consumer/`]]],
    ["Job", [["url", `${base}/job/`]]],
    [
      "Simulation",
      [
        ["url", `${base}/simulation/`],
        ["SignedUrl", "True"],
      ],
    ],
    ["Session", [["url", `${base}/session/`]]],
    ["Application", [["url", `${base}/application/`]]],
    [
      "Authentication",
      [
        ["username", options.user],
        ["password", options.password],
      ],
    ],
  ];
  return sections
    .map(([name, entries]) => `[${name}]\n${entries.map(([key, value]) => `${key} = ${value}\n`).join("")}\n`)
    .join("");
}

/** Writes the file (mode 0600, never readable by others even for a moment); returns its text. */
export function writeTurbineConfig(path: string, options: TurbineConfigOptions): string {
  const text = turbineConfigText(options);
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, text, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, path);
  return text;
}

/**
 * Removes the file unless it now holds other credentials (another stack of this checkout wrote
 * its own since). FOQUS's own rewrite of the file keeps the password, so it is removed too.
 */
export function removeTurbineConfig(path: string, options: Pick<TurbineConfigOptions, "password">): void {
  let current: string;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    return;
  }
  if (current.split(/\r?\n/).some((line) => line.trim() === `password = ${options.password}`))
    rmSync(path, { force: true });
}
