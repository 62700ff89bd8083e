/** The operator's user command, against the users table on moto. */
import test from "ava";
import { runAdmin } from "../../cli/admin.ts";
import { verifyPassword } from "../../core/users/password.ts";
import { getUser } from "../../core/users/user-store.ts";
import { uniqueName } from "../helpers/stack.ts";

const withPassword = (password: string) => ({ password: async () => password });

test.serial("add, list, plan, role, passwd and remove a user", async (t) => {
  const name = uniqueName("op");
  t.is(
    await runAdmin(["add", name, "--plan", "premium"], withPassword("first-password")),
    `created ${name} (plan premium)`,
  );
  const stored = await getUser(name);
  t.is(stored?.Plan, "premium");
  t.false(stored?.PasswordHash.includes("first-password"));
  t.regex(await runAdmin(["list"]), new RegExp(`^${name}\\tpremium\\t-\\t`, "m"));
  t.is(await runAdmin(["plan", name, "free"]), `${name} is now on the free plan`);
  await runAdmin(["role", name, "admin"]);
  t.deepEqual((await getUser(name))?.Roles, ["admin"]);
  await runAdmin(["passwd", name], withPassword("second-password"));
  t.true(await verifyPassword("second-password", (await getUser(name))!.PasswordHash));
  t.is(await runAdmin(["remove", name]), `removed ${name}`);
  t.is(await getUser(name), undefined);
});

test.serial(
  "clear errors for a duplicate user, a bad plan, a weak password and an unknown command",
  async (t) => {
    const name = uniqueName("op");
    await runAdmin(["add", name], withPassword("good-password"));
    await t.throwsAsync(runAdmin(["add", name], withPassword("good-password")), {
      message: /already exists/,
    });
    await t.throwsAsync(runAdmin(["plan", name, "gold"]), { message: /free or premium/ });
    await t.throwsAsync(runAdmin(["add", uniqueName("op")], withPassword("short")), {
      message: /at least 8/,
    });
    await t.throwsAsync(runAdmin(["frobnicate"]), { message: /Unknown command/ });
    await t.throwsAsync(runAdmin(["remove", uniqueName("nobody")]), { message: /does not exist/ });
  },
);

test.serial("the table comes from --users-table, then USERS_TABLE, then a running local stack", async (t) => {
  const saved = { USERS_TABLE: process.env.USERS_TABLE, FOQUS_STACK_FILE: process.env.FOQUS_STACK_FILE };
  try {
    // A flag wins over the environment: a table that does not exist is really asked for.
    await t.throwsAsync(runAdmin(["list", "--users-table", "no-such-table"]), {
      message: /no-such-table|non-existent|not found/i,
    });
    // Neither flag, nor environment, nor a local stack: the error says how to name the table.
    delete process.env.USERS_TABLE;
    process.env.FOQUS_STACK_FILE = "/nonexistent/stack.json";
    await t.throwsAsync(runAdmin(["list"]), { message: /--users-table.*USERS_TABLE.*make local/ });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});
