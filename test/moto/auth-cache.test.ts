/**
 * What authentication costs: verified credentials are cached, so the slow hash runs once per
 * credential; bogus credentials cost no hash (a name that cannot exist, not even a lookup), and
 * a failed credential sent again is not hashed again.
 */
import test from "ava";
import { useClientPlugin } from "../../core/aws/clients.ts";
import { countingPlugin, newCounts, totalRequests } from "../../core/aws/request-counter.ts";
import { passwordVerificationCount } from "../../core/users/password.ts";
import { api, newUser, stopAll, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

const counts = newCounts();
useClientPlugin(countingPlugin(counts));
const dynamoDbRequests = () => totalRequests(counts, (key) => key.startsWith("DynamoDB."));

const basic = (credentials: string | Buffer) => `Basic ${Buffer.from(credentials).toString("base64")}`;

async function status(authorization: string): Promise<{ status: number; error: string }> {
  const { url } = await api();
  const response = await fetch(`${url}/session`, { headers: { authorization } });
  const body = (await response.json()) as { error?: string };
  return { status: response.status, error: body.error ?? "" };
}

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

test.serial(
  "a wrong password sent again is not hashed again: the failure is remembered briefly",
  async (t) => {
    const user = await newUser();
    const header = basic(`${user.username}:not-the-password`);
    const before = passwordVerificationCount();
    for (let i = 0; i < 5; i += 1)
      t.deepEqual(await status(header), { status: 401, error: "InvalidCredentials" });
    t.is(passwordVerificationCount(), before + 1);
  },
);

test.serial("a name that cannot exist costs no lookup and no hash, for every malformed shape", async (t) => {
  await api();
  const shapes = [
    basic(":some-password"),
    basic(`${"x".repeat(3000)}:some-password`),
    basic(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x3a, 0x70, 0x77])),
    basic("ユーザー:some-password"),
    basic("name with spaces:some-password"),
    basic("no-colon-at-all"),
    basic(`${"y".repeat(9000)}:pw`),
    "Basic !!!not*base64!!!",
    "Basic",
    "Bearer abc",
  ];
  const hashes = passwordVerificationCount();
  const lookups = dynamoDbRequests();
  for (const header of shapes) {
    const answer = await status(header);
    t.is(answer.status, 401, header.slice(0, 40));
    t.is(answer.error, "InvalidCredentials");
  }
  t.is(passwordVerificationCount(), hashes, "no password hashed");
  t.is(dynamoDbRequests(), lookups, "no user looked up");
});

test.serial(
  "an unknown name that could exist is looked up and hashed like a wrong password, and answered alike",
  async (t) => {
    const user = await newUser();
    const hashes = passwordVerificationCount();
    const unknown = await status(basic(`${uniqueName("nobody")}:some-password`));
    const wrong = await status(basic(`${user.username}:some-password`));
    t.deepEqual(unknown, wrong);
    t.is(passwordVerificationCount(), hashes + 2, "both hashed: timing does not tell which names exist");
  },
);
