/**
 * The authenticator's costs and answers, with the users table and the hash injected: which
 * credentials are looked up, which are hashed, and for how long a failure is remembered.
 */
import test from "ava";
import { AuthError } from "../../core/errors.ts";
import { createAuthenticator, parseBasicAuthorization } from "../../core/users/authenticate.ts";
import { CredentialCache } from "../../core/users/credential-cache.ts";
import type { Principal } from "../../core/users/user.ts";
import type { UserRecord } from "../../core/users/user-store.ts";
import { makeUserRecord } from "../helpers/factories.ts";

const basic = (credentials: string | Buffer) => `Basic ${Buffer.from(credentials).toString("base64")}`;

/** An authenticator over one stored user whose hash is "hash-of-<password>". */
function harness(users: UserRecord[] = [makeUserRecord({ PasswordHash: "hash-of-right" })]) {
  let now = 1_000_000;
  const calls = { lookups: [] as string[], hashed: [] as string[] };
  const table = new Map(users.map((user) => [user.Username, user]));
  const authenticate = createAuthenticator({
    findUser: async (username) => {
      calls.lookups.push(username);
      return table.get(username);
    },
    verify: async (password, stored) => {
      calls.hashed.push(stored);
      return stored === `hash-of-${password}`;
    },
    verified: new CredentialCache<Principal>(100, 300_000, () => now),
    failed: new CredentialCache<true>(3, 30_000, () => now),
  });
  return {
    authenticate,
    calls,
    table,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return error.code;
  }
}

test("malformed headers of every shape are InvalidCredentials, with no lookup and no hash", async (t) => {
  const { authenticate, calls } = harness();
  const headers = [
    basic(":right"),
    basic(`${"a".repeat(2049)}:right`),
    basic(Buffer.from([0xff, 0xfe, 0x3a, 0x41])),
    basic("alice/../root:right"),
    basic("no colon"),
    basic(`alice:${"p".repeat(5000)}`),
    "Basic !!!",
    "Basic YWxp=Y2U6cmlnaHQ=",
    "Basic",
    "Bearer abc",
    "",
  ];
  for (const header of headers) {
    t.is(
      await codeOf(authenticate(header)),
      header ? "InvalidCredentials" : "MissingCredentials",
      header.slice(0, 30),
    );
  }
  t.deepEqual(calls, { lookups: [], hashed: [] });
});

test("parses UTF-8 credentials and keeps colons in the password", (t) => {
  t.deepEqual(parseBasicAuthorization(basic("alice:pa:ss wörd")), {
    username: "alice",
    password: "pa:ss wörd",
  });
  t.deepEqual(parseBasicAuthorization(`basic  ${Buffer.from("a:b").toString("base64")} `), {
    username: "a",
    password: "b",
  });
  t.is(
    parseBasicAuthorization(basic(Buffer.from([0x61, 0x3a, 0xc3]))),
    undefined,
    "a cut-off UTF-8 sequence",
  );
});

test("a failed credential is hashed once, then refused from memory until its short TTL ends", async (t) => {
  const { authenticate, calls, advance } = harness();
  const wrong = basic("alice:wrong");
  for (let i = 0; i < 3; i += 1) t.is(await codeOf(authenticate(wrong)), "InvalidCredentials");
  t.is(calls.hashed.length, 1);
  advance(30_000);
  t.is(await codeOf(authenticate(wrong)), "InvalidCredentials");
  t.is(calls.hashed.length, 2, "hashed again once the failure expired");
});

test("a password reset is honoured once the stale failure expires", async (t) => {
  const { authenticate, table, advance } = harness();
  const next = basic("alice:next");
  t.is(await codeOf(authenticate(next)), "InvalidCredentials", "tried before the reset");
  table.set("alice", makeUserRecord({ PasswordHash: "hash-of-next" }));
  t.is(await codeOf(authenticate(next)), "InvalidCredentials", "within the 30 s failure TTL");
  advance(30_000);
  t.is(await codeOf(authenticate(next)), "ok");
});

test("the failure memory is bounded: the oldest failures are forgotten first", async (t) => {
  const { authenticate, calls } = harness();
  for (const password of ["w1", "w2", "w3", "w4"]) await codeOf(authenticate(basic(`alice:${password}`)));
  t.is(calls.hashed.length, 4);
  await codeOf(authenticate(basic("alice:w4")));
  t.is(calls.hashed.length, 4, "a recent failure is remembered");
  await codeOf(authenticate(basic("alice:w1")));
  t.is(calls.hashed.length, 5, "the oldest was forgotten (3 entries)");
});

test("an unknown or removed user is hashed against a dummy, like a wrong password", async (t) => {
  const { authenticate, calls } = harness([
    makeUserRecord({ PasswordHash: "hash-of-right" }),
    makeUserRecord({ Username: "gone", PasswordHash: "hash-of-right", Removed: "2026-01-01T00:00:00.000Z" }),
  ]);
  t.is(await codeOf(authenticate(basic("nobody:right"))), "InvalidCredentials");
  t.is(await codeOf(authenticate(basic("gone:right"))), "InvalidCredentials");
  t.is(await codeOf(authenticate(basic("alice:wrong"))), "InvalidCredentials");
  t.deepEqual(calls.lookups, ["nobody", "gone", "alice"]);
  t.is(calls.hashed.length, 3);
  t.regex(calls.hashed[0] ?? "", /^scrypt\$/, "the dummy is a real scrypt hash");
  t.is(calls.hashed[1], calls.hashed[0], "a removed user's hash is never checked");
});

test("a verified credential is cached", async (t) => {
  const { authenticate, calls } = harness();
  t.is(await codeOf(authenticate(basic("alice:right"))), "ok");
  t.is(await codeOf(authenticate(basic("alice:right"))), "ok");
  t.is(calls.hashed.length, 1);
});
