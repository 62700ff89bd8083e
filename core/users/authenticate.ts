/**
 * @module users/authenticate
 * HTTP Basic authentication against the users table, with verified credentials cached.
 */
import { config } from "../config.ts";
import { AuthError } from "../errors.ts";
import { CredentialCache } from "./credential-cache.ts";
import { verifyPassword } from "./password.ts";
import type { Principal } from "./user.ts";
import { getUser } from "./user-store.ts";

let cache: CredentialCache<Principal> | undefined;

function credentialCache(): CredentialCache<Principal> {
  cache ??= new CredentialCache(config.credentialCacheSize, config.credentialCacheSeconds * 1000);
  return cache;
}

/** Splits `Basic <base64(user:password)>`; undefined when the header is not of that form. */
export function parseBasicAuthorization(header: string): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const BAD_CREDENTIALS =
  "The user name or password is wrong. Check the user and password in your turbine configuration (turbine_aws.cfg), or ask your operator to reset them.";

/** The caller named by an Authorization header, or AuthError. */
export async function authenticate(header: string | undefined): Promise<Principal> {
  if (!header) {
    throw new AuthError(
      "MissingCredentials",
      "This API needs HTTP Basic authentication: send an Authorization header.",
    );
  }
  const cached = credentialCache().get(header);
  if (cached) return cached;
  const credentials = parseBasicAuthorization(header);
  if (!credentials) {
    throw new AuthError(
      "InvalidCredentials",
      "The Authorization header must be 'Basic <base64 of user:password>'.",
    );
  }
  if (credentials.username === "" && credentials.password === "") {
    throw new AuthError(
      "InvalidCredentials",
      "The request carried an empty user and password. FOQUS blanks credentials on plain http:// URLs; use the https:// URL of the API.",
    );
  }
  const user = await getUser(credentials.username);
  // Hash even for an unknown user, so response time does not reveal which names exist.
  const ok = await verifyPassword(credentials.password, user?.PasswordHash ?? DUMMY_HASH);
  if (!user || !ok) throw new AuthError("InvalidCredentials", BAD_CREDENTIALS);
  const principal: Principal = { username: user.Username, plan: user.Plan, roles: user.Roles ?? [] };
  credentialCache().set(header, principal);
  return principal;
}

// A valid hash of a random password, with the production parameters.
const DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$7Oe1Q2CGWbNRCNAU9e2vOM3S4r2OUgkR2UL2NgaS9qE=";
