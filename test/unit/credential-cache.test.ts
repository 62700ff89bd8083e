import test from "ava";
import { CredentialCache } from "../../core/users/credential-cache.ts";

test("returns a cached value until its time is up", (t) => {
  let now = 1000;
  const cache = new CredentialCache<string>(10, 500, () => now);
  cache.set("Basic abc", "alice");
  now = 1499;
  t.is(cache.get("Basic abc"), "alice");
  now = 1500;
  t.is(cache.get("Basic abc"), undefined);
});

test("evicts the oldest entry beyond its size", (t) => {
  const cache = new CredentialCache<string>(2, 60_000);
  cache.set("a", "1");
  cache.set("b", "2");
  cache.set("c", "3");
  t.is(cache.size, 2);
  t.is(cache.get("a"), undefined);
  t.is(cache.get("c"), "3");
});

test("keys on a hash, never on the header itself", (t) => {
  const key = CredentialCache.keyOf("Basic dXNlcjpzZWNyZXQ=");
  t.regex(key, /^[0-9a-f]{64}$/);
  t.false(key.includes("dXNlcjpzZWNyZXQ"));
});
