/**
 * A FOQUS flowsheet end to end, as FOQUS desktop runs one in the cloud: the session file
 * uploaded as simulation `zzfoqus_<name>`'s `configuration`, samples appended in chunks of 20
 * with start after each, a worker running the real FOQUS, and every result page read. Skipped
 * with the reason where FOQUS is absent; CI sets FOQUS_REQUIRED=1, which fails instead.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import test from "ava";
import type { JobRecord } from "../../client/api-client.ts";
import { resultPages } from "../../client/result-pages.ts";
import { newUser, startUpdateProcessor, stopAll, uniqueName } from "../helpers/stack.ts";
import { clearJobQueues, foqusRuntime, startWorker, type TestWorker } from "../helpers/workers.ts";

const SESSION_FILE = fileURLToPath(new URL("../../worker/apps/flowsheets/mix-scale.foqus", import.meta.url));
const SAMPLES = 60;
const CHUNK = 20;

const workers: TestWorker[] = [];
test.before(async () => {
  await clearJobQueues();
  await startUpdateProcessor();
});
test.after.always(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await stopAll();
});

if (!foqusRuntime.available) {
  const { reason } = foqusRuntime;
  if (process.env.FOQUS_REQUIRED === "1") {
    test("FOQUS is available (FOQUS_REQUIRED=1)", (t) => t.fail(reason));
  } else {
    console.log(`foqus flowsheet e2e skipped: ${reason}`);
  }
}
const foqus = foqusRuntime.available ? test.serial : test.skip;

foqus(
  "a flowsheet uploaded and run as FOQUS does: every sample succeeds with FOQUS's own values",
  async (t) => {
    workers.push(startWorker({ WORKER_CONCURRENCY: "2" }));
    const user = await newUser();
    const client = user.client;
    const name = uniqueName("zzfoqus_mix_scale").replace(/-/g, "_");

    // uploadSimulation: the application must be listed, then the simulation and its configuration.
    t.true((await client.applications()).some((app) => app.Name === "foqus"));
    await client.putSimulation(name, "foqus");
    const stored = await user.call("PUT", `/simulation/${name}/input/configuration`, {
      raw: readFileSync(SESSION_FILE),
      headers: { "content-type": "" },
    });
    t.is(stored.status, 200);

    // Samples in chunks of 20, start after each chunk, Reset false: FOQUS's solveListValTurbine.
    const sid = await client.createSession();
    const ids: string[] = [];
    for (let first = 0; first < SAMPLES; first += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, SAMPLES - first) }, (_, k) => ({
        Simulation: name,
        Input: { Mix: { x: first + k } },
        Reset: false,
      }));
      ids.push(...(await client.append(sid, chunk)));
      await client.start(sid);
    }

    const records: JobRecord[] = [];
    const deadline = Date.now() + 5 * 60_000;
    for await (const poll of resultPages(client, sid, { intervalMs: 250 })) {
      records.push(...poll.records);
      if (records.length >= ids.length || Date.now() > deadline) break;
    }
    t.deepEqual(
      records.map((record) => record.Id).sort(),
      [...ids].sort(),
      "every sample paged exactly once",
    );
    for (const record of records) {
      const x = ids.indexOf(record.Id);
      t.is(record.State, "success", record.Message ?? "");
      const output = record.Output as {
        graphError: number;
        input: { Mix: { x: number; y: number } };
        output: { Mix: { s: number; p: number }; Scale: { r: number } };
      };
      t.is(output.graphError, 0);
      // y and k come from the session file (2 and 3), never from an earlier sample.
      t.deepEqual(output.input.Mix, { x, y: 2 });
      t.deepEqual(output.output.Mix, { s: x + 2, p: 2 * x });
      t.deepEqual(output.output.Scale, { r: 3 * (x + 2) });
    }
  },
);
