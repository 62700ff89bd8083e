/**
 * @module cli/turbine-cfg
 * Reads the API address and credentials out of a FOQUS `turbine_aws.cfg`: the INI file FOQUS
 * desktop and the turbine client read (configparser: `[Section]`, `key = value` or `key: value`,
 * `#`/`;` comments). The base address is `[Application] url` cut at its `application` segment,
 * as FOQUS cuts it; the credentials are `[Authentication] username` and `password`.
 */

export interface TurbineCredentials {
  url: string;
  user: string | undefined;
  password: string | undefined;
}

/** The sections of an INI text: section → key (lower-cased, as configparser) → value. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1]) {
      current = new Map();
      sections.set(section[1].trim(), current);
      continue;
    }
    const separator = line.search(/[=:]/);
    if (current && separator > 0)
      current.set(line.slice(0, separator).trim().toLowerCase(), line.slice(separator + 1).trim());
  }
  return sections;
}

/** The API base and credentials of a turbine_aws.cfg, or undefined when it names no application URL. */
export function readTurbineCredentials(text: string): TurbineCredentials | undefined {
  const sections = parseIni(text);
  const applicationUrl = sections.get("Application")?.get("url");
  if (!applicationUrl) return undefined;
  const cut = applicationUrl.search(/\/application\/?$/i);
  const url = (cut >= 0 ? applicationUrl.slice(0, cut) : applicationUrl).replace(/\/+$/, "");
  const auth = sections.get("Authentication");
  return { url, user: auth?.get("username") || undefined, password: auth?.get("password") || undefined };
}
