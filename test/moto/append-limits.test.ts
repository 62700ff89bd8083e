/**
 * Appends refused up front, through the API: each answers 400 naming the job and the field, and
 * writes nothing (the session's jobs read back empty).
 */
import test from "ava";
import { newUser, stopAll, type TestUser, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

async function refusedAppend(
  t: import("ava").ExecutionContext,
  user: TestUser,
  raw: string,
  field: string,
  why: RegExp,
) {
  const sim = uniqueName("sim");
  await user.client.putSimulation(sim, "fake");
  const sid = await user.client.createSession();
  const response = await user.call("POST", `/session/${sid}`, {
    raw: raw.replaceAll("SIM", sim),
    headers: { "content-type": "application/json" },
  });
  t.is(response.status, 400);
  const error = (await response.json()) as { error: string; message: string };
  t.is(error.error, "InvalidRequest");
  t.true(error.message.includes(field), error.message);
  t.regex(error.message, why);
  t.deepEqual(await user.client.jobs(sid), [], "nothing was written");
}

test("an Input over the byte limit is refused by its UTF-8 size, not its length in characters", async (t) => {
  const user = await newUser();
  // 150,000 CJK characters: 450,000 bytes of UTF-8, over DynamoDB's 400 KB item.
  const raw = JSON.stringify([
    { Simulation: "SIM" },
    { Simulation: "SIM", Input: { text: "漢".repeat(150_000) } },
  ]);
  await refusedAppend(t, user, raw, "[1].Input", /bytes of JSON \(UTF-8\)/);
});

test("an Input nested thousands of levels deep is refused", async (t) => {
  const user = await newUser();
  const raw = `[{"Simulation":"SIM","Input":{"a":${"[".repeat(5000)}${"]".repeat(5000)}}}]`;
  await refusedAppend(t, user, raw, "[0].Input", /nested more than/);
});

test("a number JSON cannot hold is refused instead of being stored as null", async (t) => {
  const user = await newUser();
  await refusedAppend(t, user, '[{"Simulation":"SIM","Input":{"x":1e400}}]', "[0].Input.x", /cannot hold/);
});

test("a __proto__ key is refused instead of being dropped", async (t) => {
  const user = await newUser();
  await refusedAppend(
    t,
    user,
    '[{"Simulation":"SIM","Input":{"__proto__":{"x":1}}}]',
    "[0].Input.__proto__",
    /rename/,
  );
});
