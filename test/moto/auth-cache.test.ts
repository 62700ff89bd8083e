/** Verified credentials are cached: the slow hash runs once per credential, not per request. */
import test from "ava";
import { passwordVerificationCount } from "../../core/users/password.ts";
import { newUser, stopAll } from "../helpers/stack.ts";

test.after.always(stopAll);

test.serial("a second request with the same credentials does not hash the password again", async (t) => {
  const user = await newUser();
  const before = passwordVerificationCount();
  t.is((await user.call("GET", "/session")).status, 200);
  const afterFirst = passwordVerificationCount();
  t.is(afterFirst, before + 1);
  t.is((await user.call("GET", "/session")).status, 200);
  t.is((await user.call("GET", "/application")).status, 200);
  t.is(passwordVerificationCount(), afterFirst);
});

test.serial("a wrong password is hashed every time (failures are not cached)", async (t) => {
  const user = await newUser();
  const { api } = await import("../helpers/stack.ts");
  const { url } = await api();
  const header = {
    authorization: `Basic ${Buffer.from(`${user.username}:not-the-password`).toString("base64")}`,
  };
  const before = passwordVerificationCount();
  t.is((await fetch(`${url}/session`, { headers: header })).status, 401);
  t.is((await fetch(`${url}/session`, { headers: header })).status, 401);
  t.is(passwordVerificationCount(), before + 2);
});
