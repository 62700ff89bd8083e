/**
 * @module cli/admin
 * `foqus-admin`: the operator's command for users, straight against the users table.
 * Where the table is comes from, first to last: the flags (--users-table, --endpoint-url,
 * --region), the file named by --environment (the functions' environment, Terraform's output
 * function_environment), the environment (USERS_TABLE, AWS_ENDPOINT_URL, AWS_REGION and the
 * usual AWS credentials), and a running local stack (cli/local-stack.ts). `remove` deletes
 * everything the user owned (core/users/remove-user.ts), so it needs every table, bucket and
 * the update topic, not only the users table.
 * Passwords are read from standard input or FOQUS_PASSWORD, never from the command line (argv
 * is visible to every user of the machine).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Clock } from "../core/clock.ts";
import { ConfigError, FoqusError, isErrorOf } from "../core/errors.ts";
import { changePlan } from "../core/tiers/plan-change.ts";
import { subscribeEmail } from "../core/users/notification-email.ts";
import { assertRemovalConfigured, type RemovalReport, removeUser } from "../core/users/remove-user.ts";
import { isPlan, type Role, Roles } from "../core/users/user.ts";
import { createUser, isRemovedUser, listUsers, setPassword, setRoles } from "../core/users/user-store.ts";
import { readLocalStack } from "./local-stack.ts";

const USAGE = `Usage: foqus-admin <command> [options]
  add <user> [--plan free|premium] [--admin]   create a user (password from stdin or FOQUS_PASSWORD)
  list                                         list users with their plan and roles
  remove <user>                                delete a user and everything they own (sessions, jobs,
                                               results, simulations, files); run again to finish
  passwd <user>                                reset a password (from stdin or FOQUS_PASSWORD)
  plan <user> <free|premium>                   change a plan (premium restores archived results)
  email <user> <address>                       send the user's "session finished" notices there
  role <user> <admin|none>                     grant or revoke the admin role
Where the users table is:
  --users-table <name>    (or USERS_TABLE; Terraform's output table_names.users)
  --endpoint-url <url>    (or AWS_ENDPOINT_URL) only for an emulator
  --region <region>       (or AWS_REGION)
  --environment <file>    the functions' environment as JSON (terraform output -json
                          function_environment): every table, bucket and topic; remove needs it
Inside a checkout with \`make local\` running, none of these is needed.`;

/** Flags, then the environment, then a running local stack: the settings core/config.ts reads. */
function configure(flags: {
  "users-table"?: string;
  "endpoint-url"?: string;
  region?: string;
  environment?: string;
}): void {
  const fromFlags: Record<string, string | undefined> = {
    ...(flags.environment ? readEnvironmentFile(flags.environment) : {}),
    ...(flags["users-table"] ? { USERS_TABLE: flags["users-table"] } : {}),
    ...(flags["endpoint-url"] ? { AWS_ENDPOINT_URL: flags["endpoint-url"] } : {}),
    ...(flags.region ? { AWS_REGION: flags.region } : {}),
  };
  for (const [key, value] of Object.entries(fromFlags)) if (value) process.env[key] = value;
  if (process.env.USERS_TABLE) return;
  const local = readLocalStack();
  if (!local) {
    throw new FoqusError(
      "Usage",
      "Which users table? Pass --users-table (or set USERS_TABLE), or run this inside a checkout where `make local` is running.",
    );
  }
  for (const [key, value] of Object.entries(local.environment)) process.env[key] ??= value;
}

/** A JSON object of environment variables (string values), as Terraform prints function_environment. */
function readEnvironmentFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new FoqusError("Usage", `--environment ${file}: ${(error as Error).message}`);
  }
  const values = parsed && typeof parsed === "object" ? Object.entries(parsed) : [];
  if (!parsed || typeof parsed !== "object" || values.some(([, value]) => typeof value !== "string")) {
    throw new FoqusError(
      "Usage",
      `--environment ${file} must be a JSON object of strings, as 'terraform output -json function_environment' prints.`,
    );
  }
  return Object.fromEntries(values) as Record<string, string>;
}

function removalText(report: RemovalReport): string {
  const deleted = `removed ${report.username}: ${report.sessions} sessions (${report.jobs} jobs), ${report.simulations} simulations and ${report.strayObjects} other stored objects deleted`;
  if (report.released) return `${deleted}; the name is free again`;
  return `${deleted}. The name stays reserved until ${report.reusableFrom}, while credentials verified before the removal may still be cached: run 'foqus-admin remove ${report.username}' again after that to sweep once more and free it.`;
}

async function readPassword(): Promise<string> {
  if (process.env.FOQUS_PASSWORD) return process.env.FOQUS_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write("Password: ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new FoqusError("Usage", `Missing ${what}.\n${USAGE}`);
  return value;
}

/**
 * Runs one admin command; `password` supplies the password programmatically (the local stack
 * creates its demo user this way) instead of standard input or FOQUS_PASSWORD.
 */
export async function runAdmin(
  argv: string[],
  options: { password?: () => Promise<string>; clock?: Clock } = {},
): Promise<string> {
  const password = options.password ?? readPassword;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plan: { type: "string" },
      admin: { type: "boolean" },
      help: { type: "boolean" },
      "users-table": { type: "string" },
      "endpoint-url": { type: "string" },
      region: { type: "string" },
      environment: { type: "string" },
    },
  });
  const [command, user, arg] = positionals;
  if (values.help || !command) return USAGE;
  configure(values);
  switch (command) {
    case "add": {
      const plan = values.plan ?? "free";
      if (!isPlan(plan)) throw new FoqusError("Usage", `--plan must be free or premium, not "${plan}".`);
      const roles: Role[] = values.admin ? [Roles.admin] : [];
      const created = await createUser({
        username: need(user, "<user>"),
        password: await password(),
        plan,
        roles,
      });
      return `created ${created.Username} (plan ${created.Plan}${roles.length ? ", admin" : ""})`;
    }
    case "list":
      return (await listUsers())
        .map(
          (u) =>
            `${u.Username}\t${u.Plan}\t${(u.Roles ?? []).join(",") || "-"}\t${u.Created}${isRemovedUser(u) ? "\tbeing removed (finish with remove)" : ""}`,
        )
        .join("\n");
    case "remove": {
      const name = need(user, "<user>");
      try {
        assertRemovalConfigured();
      } catch (error) {
        if (!isErrorOf(error, ConfigError)) throw error;
        throw new FoqusError(
          "Usage",
          `remove deletes everything the user owns, so it needs the whole stack's settings, not only the users table: pass --environment with the output of 'terraform output -json function_environment'. (${error.message})`,
        );
      }
      return removalText(await removeUser(name, options.clock));
    }
    case "passwd":
      await setPassword(need(user, "<user>"), await password());
      return `password changed for ${user}`;
    case "plan": {
      const plan = need(arg, "<free|premium>");
      if (!isPlan(plan)) throw new FoqusError("Usage", `The plan must be free or premium, not "${plan}".`);
      const name = need(user, "<user>");
      try {
        const updated = await changePlan(name, plan);
        return `${updated.Username} is now on the ${updated.Plan} plan${plan === "premium" ? "; the restore of any archived results is queued" : ""}`;
      } catch (error) {
        if (!isErrorOf(error, ConfigError)) throw error;
        // The plan is set; only the restore request needs the rest of the stack's settings.
        throw new FoqusError(
          "Usage",
          `${name} is now on the ${plan} plan, but the restore of archived results could not be queued: pass --environment with the output of 'terraform output -json function_environment' and run this again. (${error.message})`,
        );
      }
    }
    case "email": {
      const name = need(user, "<user>");
      const updated = await subscribeEmail(name, need(arg, "<address>"));
      return `${updated.Username}'s session notices go to ${updated.Email} once the address confirms the subscription SNS sent it`;
    }
    case "role": {
      const role = need(arg, "<admin|none>");
      if (role !== "admin" && role !== "none")
        throw new FoqusError("Usage", `The role must be admin or none, not "${role}".`);
      await setRoles(need(user, "<user>"), role === "admin" ? [Roles.admin] : []);
      return `${user} roles: ${role}`;
    }
    default:
      throw new FoqusError("Usage", `Unknown command "${command}".\n${USAGE}`);
  }
}
