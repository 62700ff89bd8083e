/** The operator's user command, against the users table on moto (and, for remove, the whole stack). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand } from "@aws-sdk/client-sns";
import test from "ava";
import { runAdmin } from "../../cli/admin.ts";
import { FoqusClient } from "../../client/api-client.ts";
import { type AnyClient, useClientPlugin } from "../../core/aws/clients.ts";
import { queryAll } from "../../core/aws/dynamo-batch.ts";
import { s3Client } from "../../core/aws/s3-client.ts";
import { snsClient } from "../../core/aws/sns-client.ts";
import { config } from "../../core/config.ts";
import { listSessionJobs } from "../../core/jobs/job-store.ts";
import { outputKey, putOutput } from "../../core/results/output-store.ts";
import { findSession, listSessionIds } from "../../core/sessions/session-store.ts";
import { putInputFile } from "../../core/simulations/simulation-files.ts";
import { listSimulations } from "../../core/simulations/simulation-store.ts";
import { verifyPassword } from "../../core/users/password.ts";
import { credentialTrustSeconds } from "../../core/users/remove-user.ts";
import { getUser, isRemovedUser } from "../../core/users/user-store.ts";
import { api, env, stopAll, uniqueName } from "../helpers/stack.ts";

test.after.always(stopAll);

const withPassword = (password: string) => ({ password: async () => password });

/** A clock past the removal's credential window: the second `remove` may free the name. */
const afterCredentialWindow = () => ({
  clock: () => new Date(Date.now() + (credentialTrustSeconds() + 1) * 1000),
});

/** Fails the next S3 DeleteObjects while armed: a removal that dies half-way. */
const faults = { failDeleteObjects: 0 };
useClientPlugin((client: AnyClient) => {
  (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        if (context.commandName === "DeleteObjectsCommand" && faults.failDeleteObjects > 0) {
          faults.failDeleteObjects -= 1;
          throw Object.assign(new Error("injected: S3 unavailable"), { name: "ServiceUnavailable" });
        }
        return next(args);
      },
    { step: "initialize", name: "adminFaults", override: true },
  );
});

async function objectsUnder(bucket: string, prefix: string): Promise<string[]> {
  const page = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key ?? "");
}

/** A user made with the admin command, owning sessions, jobs, a result page, outputs, simulations and files. */
async function userWithEverything() {
  const name = uniqueName("owner");
  const password = `pw-${uniqueName("x")}`;
  await runAdmin(["add", name], withPassword(password));
  const client = new FoqusClient((await api()).url, name, password);
  await client.putSimulation("sim-a", "fake");
  await client.putInput("sim-a", "config/model.json", '{"k":1}', "application/json");
  await client.putSimulation("sim-b", "fake");
  const sid = await client.createSession();
  const jobIds = await client.append(sid, [{ Simulation: "sim-a" }, { Simulation: "sim-b" }]);
  await client.closePage(sid);
  const emptySid = await client.createSession();
  // A large output kept in S3, and objects no record names (a late worker, a presigned upload).
  await putOutput(outputKey(name, sid, jobIds[0]!), '{"big":true}');
  await putOutput(`outputs/${name}/${uniqueName("gone-session")}/job.json`, "{}");
  await putInputFile(name, "deleted-sim", "stray.txt", Buffer.from("stray"));
  return { name, password, client, sid, emptySid, jobIds };
}

/** Everything stored under the name: must be nothing after a removal. */
async function ownedBy(name: string, sessionIds: string[]) {
  return {
    sessions: await listSessionIds(name),
    sessionRecords: (await Promise.all(sessionIds.map((sid) => findSession(name, sid)))).filter(Boolean),
    jobs: (await Promise.all(sessionIds.map((sid) => listSessionJobs(sid)))).flat(),
    results: (
      await Promise.all(
        sessionIds.map((sid) =>
          queryAll({
            TableName: config.resultsTable,
            KeyConditionExpression: "SessionId = :sid",
            ExpressionAttributeValues: { ":sid": sid },
          }),
        ),
      )
    ).flat(),
    simulations: await listSimulations(name),
    stagedFiles: await objectsUnder(config.simulationsBucket, `${name}/`),
    outputs: await objectsUnder(config.resultsBucket, `outputs/${name}/`),
  };
}

const NOTHING = {
  sessions: [],
  sessionRecords: [],
  jobs: [],
  results: [],
  simulations: [],
  stagedFiles: [],
  outputs: [],
};

test.serial(
  "email subscribes the user's address to session notices, filtered to that user only",
  async (t) => {
    const name = uniqueName("op");
    await runAdmin(["add", name], withPassword("a-password"));
    t.regex(await runAdmin(["email", name, `${name}@example.org`]), /once the address confirms/);
    const user = await getUser(name);
    t.is(user?.Email, `${name}@example.org`);
    const { Subscriptions } = await snsClient().send(
      new ListSubscriptionsByTopicCommand({ TopicArn: config.notificationTopicArn }),
    );
    const mine = Subscriptions?.find((sub) => sub.Endpoint === `${name}@example.org`);
    t.is(mine?.Protocol, "email");
    const { Attributes } = await snsClient().send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: mine?.SubscriptionArn }),
    );
    t.deepEqual(JSON.parse(Attributes?.FilterPolicy ?? "{}"), { username: [name] });
    await t.throwsAsync(runAdmin(["email", name, "not-an-address"]), { message: /not an email address/ });
  },
);

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
  t.regex(await runAdmin(["remove", name]), new RegExp(`^removed ${name}: 0 sessions .*reserved until`));
  t.true(isRemovedUser((await getUser(name))!), "a tombstone holds the name");
  t.regex(await runAdmin(["list"]), new RegExp(`^${name}\t.*\tbeing removed `, "m"));
  t.regex(await runAdmin(["remove", name], afterCredentialWindow()), /the name is free again$/);
  t.is(await getUser(name), undefined);
});

test.serial(
  "removing a user deletes everything they owned, and a new user of that name starts empty",
  async (t) => {
    const owner = await userWithEverything();
    const sessionIds = [owner.sid, owner.emptySid];

    const first = await runAdmin(["remove", owner.name]);
    t.regex(first, /2 sessions \(2 jobs\), 2 simulations and 2 other stored objects deleted/);
    t.deepEqual(await ownedBy(owner.name, sessionIds), NOTHING);
    // The tombstone: the old password logs in nowhere it is not already cached ("basic" in lower
    // case is a header this process has not verified), and the name cannot be taken yet.
    const { url } = await api();
    const fresh = `basic ${Buffer.from(`${owner.name}:${owner.password}`).toString("base64")}`;
    t.is((await fetch(`${url}/session`, { headers: { authorization: fresh } })).status, 401);
    await t.throwsAsync(runAdmin(["add", owner.name], withPassword("another-password")), {
      message: /is being removed .*foqus-admin remove/,
    });
    await t.throwsAsync(runAdmin(["passwd", owner.name], withPassword("another-password")), {
      message: /is being removed/,
    });
    await t.throwsAsync(runAdmin(["plan", owner.name, "premium"]), { message: /is being removed/ });
    await t.throwsAsync(runAdmin(["role", owner.name, "admin"]), { message: /is being removed/ });

    // Once cached credentials have expired, removing again sweeps once more and frees the name.
    t.regex(await runAdmin(["remove", owner.name], afterCredentialWindow()), /the name is free again$/);
    await runAdmin(["add", owner.name], withPassword("a-new-password"));
    const successor = new FoqusClient(url, owner.name, "a-new-password");
    t.deepEqual(await successor.sessions(), []);
    t.deepEqual(await successor.simulations(), []);
    t.is((await successor.send("GET", `/session/${owner.sid}`)).status, 404);
    t.is((await successor.send("GET", `/job/${owner.jobIds[0]}`)).status, 404);
    t.is((await successor.send("GET", "/simulation/sim-a/input/config/model.json")).status, 404);
    t.deepEqual(await ownedBy(owner.name, sessionIds), NOTHING);
  },
);

test.serial(
  "a removal that fails half-way keeps the user out and the name taken; running it again finishes",
  async (t) => {
    const owner = await userWithEverything();
    faults.failDeleteObjects = 1;
    await t.throwsAsync(runAdmin(["remove", owner.name]), { message: /injected/ });
    faults.failDeleteObjects = 0;
    t.true(isRemovedUser((await getUser(owner.name))!), "the tombstone came first");
    await t.throwsAsync(runAdmin(["add", owner.name], withPassword("another-password")), {
      message: /is being removed/,
    });
    t.notDeepEqual(await ownedBy(owner.name, [owner.sid, owner.emptySid]), NOTHING, "the failure left some");

    t.regex(await runAdmin(["remove", owner.name], afterCredentialWindow()), /the name is free again$/);
    t.deepEqual(await ownedBy(owner.name, [owner.sid, owner.emptySid]), NOTHING);
    t.is(await getUser(owner.name), undefined);
  },
);

test.serial(
  "remove needs the whole stack's settings: without them it changes nothing and names --environment",
  async (t) => {
    const name = uniqueName("op");
    await runAdmin(["add", name], withPassword("good-password"));
    const saved = process.env.SESSIONS_TABLE;
    delete process.env.SESSIONS_TABLE;
    try {
      await t.throwsAsync(runAdmin(["remove", name]), { message: /--environment.*function_environment/ });
      t.false(isRemovedUser((await getUser(name))!));
      // The functions' environment as a file, the way Terraform prints it, supplies them.
      const file = join(mkdtempSync(join(tmpdir(), "foqus-admin-")), "environment.json");
      writeFileSync(file, JSON.stringify({ SESSIONS_TABLE: env.SESSIONS_TABLE }));
      t.regex(await runAdmin(["remove", name, "--environment", file]), new RegExp(`^removed ${name}`));
    } finally {
      if (saved !== undefined) process.env.SESSIONS_TABLE = saved;
    }
    t.true(isRemovedUser((await getUser(name))!));
  },
);

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
