/**
 * @module users/authenticate
 * HTTP Basic authentication against the users table, built so that a flood of bogus
 * credentials costs no slow hash each:
 *
 * - A header that is not `Basic <base64 of UTF-8 user:password>` of sane length, or names a user
 *   the name rule forbids (users/user.ts: such a user cannot exist), answers 401 at once: no
 *   lookup, no hash. Timing tells the caller only what the rule already says publicly.
 * - A credential that failed recently (by a SHA-256 of the header, as for successes) answers 401
 *   again without hashing, for FAILED_CREDENTIAL_CACHE_SECONDS (default 30 s; at most
 *   FAILED_CREDENTIAL_CACHE_SIZE entries, oldest forgotten first). The time is short because it
 *   is also how long a user who tried a new password before the operator finished resetting it
 *   is still refused.
 * - Any other name is looked up and a password hashed: the stored one, or a dummy for a user
 *   that does not exist or is being removed, so response time does not tell which names exist.
 * - A verified credential is kept for CREDENTIAL_CACHE_SECONDS (credential-cache.ts).
 */
import { config } from "../config.ts";
import { AuthError } from "../errors.ts";
import { CredentialCache } from "./credential-cache.ts";
import { verifyPassword } from "./password.ts";
import { isValidUsername, type Principal } from "./user.ts";
import { getUser, isRemovedUser, type UserRecord } from "./user-store.ts";

/**
 * Longest Authorization header considered, in characters: far above any real credential (a
 * 64-character name and a long passphrase), far below what a flood would send to make hashing
 * and hashing of keys expensive.
 */
export const MAX_AUTHORIZATION_CHARS = 4096;

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

/**
 * Splits `Basic <base64(user:password)>`; undefined when the header is not of that form: too
 * long, not base64, not UTF-8 once decoded, or without a colon.
 */
export function parseBasicAuthorization(header: string): { username: string; password: string } | undefined {
  if (header.length > MAX_AUTHORIZATION_CHARS) return undefined;
  const match = BASIC.exec(header);
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(match[1], "base64"));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const BAD_CREDENTIALS =
  "The user name or password is wrong. Check the user and password in your turbine configuration (turbine_aws.cfg), or ask your operator to reset them.";

const badCredentials = () => new AuthError("InvalidCredentials", BAD_CREDENTIALS);

/** What an authenticator looks users up and checks passwords with, and remembers answers in. */
export interface AuthenticatorOptions {
  findUser: (username: string) => Promise<UserRecord | undefined>;
  verify: (password: string, stored: string) => Promise<boolean>;
  verified: CredentialCache<Principal>;
  failed: CredentialCache<true>;
}

/** An authenticate function over the given lookups and caches (unit tests inject them). */
export function createAuthenticator(
  options: AuthenticatorOptions,
): (header: string | undefined) => Promise<Principal> {
  const { findUser, verify, verified, failed } = options;
  return async (header) => {
    if (!header) {
      throw new AuthError(
        "MissingCredentials",
        "This API needs HTTP Basic authentication: send an Authorization header.",
      );
    }
    const cached = verified.get(header);
    if (cached) return cached;
    const credentials = parseBasicAuthorization(header);
    if (!credentials) {
      throw new AuthError(
        "InvalidCredentials",
        `The Authorization header must be 'Basic <base64 of user:password>' (UTF-8, at most ${MAX_AUTHORIZATION_CHARS} characters).`,
      );
    }
    if (credentials.username === "" && credentials.password === "") {
      throw new AuthError(
        "InvalidCredentials",
        "The request carried an empty user and password. FOQUS blanks credentials on plain http:// URLs; use the https:// URL of the API.",
      );
    }
    // No user has such a name: nothing to look up, nothing to hash.
    if (!isValidUsername(credentials.username)) throw badCredentials();
    if (failed.get(header)) throw badCredentials();
    const found = await findUser(credentials.username);
    const user = found && !isRemovedUser(found) ? found : undefined;
    // Hash even for an unknown (or removed) user, so response time does not reveal which names exist.
    const ok = await verify(credentials.password, user?.PasswordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      failed.set(header, true);
      throw badCredentials();
    }
    const principal: Principal = { username: user.Username, plan: user.Plan, roles: user.Roles ?? [] };
    verified.set(header, principal);
    return principal;
  };
}

let defaultAuthenticator: ((header: string | undefined) => Promise<Principal>) | undefined;

/** The caller named by an Authorization header, or AuthError. */
export function authenticate(header: string | undefined): Promise<Principal> {
  defaultAuthenticator ??= createAuthenticator({
    findUser: getUser,
    verify: verifyPassword,
    verified: new CredentialCache(config.credentialCacheSize, config.credentialCacheSeconds * 1000),
    failed: new CredentialCache(config.failedCredentialCacheSize, config.failedCredentialCacheSeconds * 1000),
  });
  return defaultAuthenticator(header);
}

// A valid hash of a random password, with the production parameters.
const DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$7Oe1Q2CGWbNRCNAU9e2vOM3S4r2OUgkR2UL2NgaS9qE=";
