import test from "ava";
import { parseBasicAuthorization } from "../../core/users/authenticate.ts";
import { hashPassword, passwordProblem, verifyPassword } from "../../core/users/password.ts";

test("a hash verifies its password and no other", async (t) => {
  const hash = await hashPassword("correct horse");
  t.true(await verifyPassword("correct horse", hash));
  t.false(await verifyPassword("correct hors", hash));
});

test("hashes are salted: the same password hashes differently", async (t) => {
  const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
  t.not(a, b);
  t.regex(a, /^scrypt\$32768\$8\$1\$/);
  t.false(a.includes("same password"));
});

test("a malformed stored hash never verifies", async (t) => {
  t.false(await verifyPassword("x", "plain-text"));
  t.false(await verifyPassword("x", "scrypt$1$2"));
});

test("short passwords and colons are refused", (t) => {
  t.truthy(passwordProblem("short"));
  t.truthy(passwordProblem("has:colon-inside"));
  t.is(passwordProblem("long enough"), undefined);
});

test("parses HTTP Basic credentials, keeping colons in the password", (t) => {
  const header = `Basic ${Buffer.from("alice:pa:ss").toString("base64")}`;
  t.deepEqual(parseBasicAuthorization(header), { username: "alice", password: "pa:ss" });
  t.is(parseBasicAuthorization("Bearer token"), undefined);
  t.is(parseBasicAuthorization(`Basic ${Buffer.from("nocolon").toString("base64")}`), undefined);
});
