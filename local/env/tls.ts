/**
 * @module local/env/tls
 * A certificate authority of this checkout's own, for serving the local API over https on
 * loopback (FOQUS desktop blanks the credentials on any `http://` URL). With the `openssl`
 * command it makes, once, under `.local/tls/` (git-ignored; directory 0700, keys 0600):
 *
 *   ca.pem, ca-key.pem           the CA (10 years), the file to trust (REQUESTS_CA_BUNDLE)
 *   server.pem, server-key.pem   127.0.0.1 and localhost (subjectAltName IP:127.0.0.1,
 *                                DNS:localhost), signed by that CA, valid 397 days
 *
 * Later calls reuse them while they are valid and belong together; the server certificate is
 * made again when it expires within a week (the CA too when it would). Keys are EC P-256, and
 * the extensions satisfy strict X.509 checking (Python's VERIFY_X509_STRICT). Private keys are
 * never logged; they are read only to hand them to `node:https`.
 */
import { spawnSync } from "node:child_process";
import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** `.local/tls` at the checkout's root. */
export const LOCAL_TLS_DIR = resolve(fileURLToPath(new URL("../../.local/tls", import.meta.url)));

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
const SERVER_DAYS = 397;

export interface LocalTls {
  /** The CA certificate to trust (PEM): REQUESTS_CA_BUNDLE, curl --cacert. */
  caCertPath: string;
  /** The server certificate and key (PEM) for 127.0.0.1 and localhost. */
  certPath: string;
  keyPath: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** What this call made: nothing (all reused), a new server certificate, or a new CA and server certificate. */
  generated: "none" | "server" | "ca+server";
  /** The server certificate's last day, ISO 8601. */
  serverValidTo: string;
}

export type LocalTlsResult = ({ available: true } & LocalTls) | { available: false; reason: string };

export interface LocalTlsOptions {
  /** Where the files live (default `.local/tls` at the checkout's root). */
  dir?: string;
  /** The openssl command (default `openssl` on PATH). */
  openssl?: string;
  /** Validity of a newly made server certificate, in days (default 397; tests make short ones). */
  serverDays?: number;
}

/** Whether the openssl command runs; why not if it does not. */
function opensslProblem(openssl: string): string | undefined {
  const run = spawnSync(openssl, ["version"], { encoding: "utf8", timeout: 30_000 });
  if (run.error) {
    return (run.error as NodeJS.ErrnoException).code === "ENOENT"
      ? `the openssl command is not installed (install it, e.g. apt-get install openssl)`
      : `the openssl command cannot run: ${run.error.message}`;
  }
  if (run.status !== 0) return `"${openssl} version" failed: ${(run.stderr ?? "").trim()}`;
  return undefined;
}

function openssl(command: string, args: string[]): void {
  const run = spawnSync(command, args, { encoding: "utf8", timeout: 60_000 });
  if (run.error) throw new Error(`openssl ${args[0]} could not run: ${run.error.message}`);
  // openssl writes diagnostics, never key material, to stderr.
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${(run.stderr ?? "").trim()}`);
}

function readCert(path: string): X509Certificate | undefined {
  try {
    return new X509Certificate(readFileSync(path));
  } catch {
    return undefined;
  }
}

function keyMatches(cert: X509Certificate, keyPath: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(readFileSync(keyPath)));
  } catch {
    return false;
  }
}

const lastsAWeek = (cert: X509Certificate) => Date.parse(cert.validTo) - Date.now() > WEEK_MS;

function caUsable(caPath: string, caKeyPath: string): boolean {
  const ca = readCert(caPath);
  if (!ca?.ca) return false;
  return lastsAWeek(ca) && keyMatches(ca, caKeyPath);
}

function serverUsable(certPath: string, keyPath: string, caPath: string): boolean {
  const cert = readCert(certPath);
  const ca = readCert(caPath);
  if (!cert || !ca) return false;
  return (
    !cert.ca &&
    lastsAWeek(cert) &&
    cert.checkIssued(ca) &&
    cert.verify(ca.publicKey) &&
    cert.checkIP("127.0.0.1") !== undefined &&
    cert.checkHost("localhost") !== undefined &&
    keyMatches(cert, keyPath)
  );
}

/** A lock directory-wide, so two processes of one checkout never make two CAs at once. */
function withLock<T>(dir: string, body: () => T): T {
  const lock = join(dir, ".lock");
  const deadline = Date.now() + 60_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock older than a minute is a crashed process's: take it over.
      const stale = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs > 60_000;
        } catch {
          return true;
        }
      })();
      if (stale) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by another process`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return body();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

/** Moves `name` from the scratch directory into `dir`, keys 0600 (rename keeps the mode). */
function install(scratch: string, dir: string, name: string, mode: number): void {
  chmodSync(join(scratch, name), mode);
  renameSync(join(scratch, name), join(dir, name));
}

function makeCa(command: string, scratch: string, dir: string): void {
  const subject = `/O=FOQUS Cloud local stack/CN=FOQUS Cloud local CA (${hostname()})`;
  openssl(command, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-sha256",
    "-days",
    String(CA_DAYS),
    "-subj",
    subject,
    "-addext",
    "basicConstraints=critical,CA:TRUE,pathlen:0",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-addext",
    "subjectKeyIdentifier=hash",
    "-keyout",
    join(scratch, "ca-key.pem"),
    "-out",
    join(scratch, "ca.pem"),
  ]);
  // The key goes first: a cert without its key is never left in place.
  install(scratch, dir, "ca-key.pem", 0o600);
  install(scratch, dir, "ca.pem", 0o644);
}

function makeServer(command: string, scratch: string, dir: string, days: number): void {
  const csr = join(scratch, "server.csr");
  const extensions = join(scratch, "server.ext");
  writeFileSync(
    extensions,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "subjectKeyIdentifier=hash",
      "authorityKeyIdentifier=keyid,issuer",
      "",
    ].join("\n"),
  );
  openssl(command, [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    "/O=FOQUS Cloud local stack/CN=localhost",
    "-keyout",
    join(scratch, "server-key.pem"),
    "-out",
    csr,
  ]);
  openssl(command, [
    "x509",
    "-req",
    "-sha256",
    "-in",
    csr,
    "-CA",
    join(dir, "ca.pem"),
    "-CAkey",
    join(dir, "ca-key.pem"),
    "-set_serial",
    `0x${randomBytes(16).toString("hex")}`,
    "-days",
    String(days),
    "-extfile",
    extensions,
    "-out",
    join(scratch, "server.pem"),
  ]);
  install(scratch, dir, "server-key.pem", 0o600);
  install(scratch, dir, "server.pem", 0o644);
}

/**
 * The checkout's CA and server certificate, made or renewed as needed; or, when the openssl
 * command is missing, why https is unavailable (callers then serve http only).
 */
export function ensureLocalTls(options: LocalTlsOptions = {}): LocalTlsResult {
  const dir = resolve(options.dir ?? LOCAL_TLS_DIR);
  const command = options.openssl ?? "openssl";
  const caCertPath = join(dir, "ca.pem");
  const caKeyPath = join(dir, "ca-key.pem");
  const certPath = join(dir, "server.pem");
  const keyPath = join(dir, "server-key.pem");

  const usable = () => caUsable(caCertPath, caKeyPath) && serverUsable(certPath, keyPath, caCertPath);
  let generated: LocalTls["generated"] = "none";
  if (!existsSync(dir) || !usable()) {
    const problem = opensslProblem(command);
    if (problem) return { available: false, reason: problem };
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    generated = withLock(dir, () => {
      // Another process may have made them while this one waited for the lock.
      let made: LocalTls["generated"] = "none";
      const scratch = mkdtempSync(join(dir, ".new-"));
      try {
        if (!caUsable(caCertPath, caKeyPath)) {
          makeCa(command, scratch, dir);
          made = "ca+server";
        }
        if (made === "ca+server" || !serverUsable(certPath, keyPath, caCertPath)) {
          makeServer(command, scratch, dir, options.serverDays ?? SERVER_DAYS);
          if (made === "none") made = "server";
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      return made;
    });
  }
  for (const path of [caKeyPath, keyPath]) if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const cert = readFileSync(certPath);
  return {
    available: true,
    caCertPath,
    certPath,
    keyPath,
    ca: readFileSync(caCertPath),
    cert,
    key: readFileSync(keyPath),
    generated,
    serverValidTo: new Date(new X509Certificate(cert).validTo).toISOString(),
  };
}
