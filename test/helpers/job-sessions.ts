/**
 * A session of a new user with `count` jobs appended (a fake simulation each), as the store
 * tests that drive the update processor's writes need one. Needs the moto stack.
 */
import { appendJobs } from "../../core/jobs/append-jobs.ts";
import { createSession } from "../../core/sessions/session-store.ts";
import { putSimulation } from "../../core/simulations/simulation-store.ts";
import { uniqueName } from "./stack.ts";

export async function sessionWithJobs(count: number, username: string = uniqueName("user")) {
  const sim = uniqueName("sim");
  await putSimulation(username, sim, "fake");
  const session = await createSession(username);
  const ids = await appendJobs(
    username,
    session.SessionId,
    Array.from({ length: count }, (_, i) => ({ Simulation: sim, Input: { i } })),
  );
  return { username, sid: session.SessionId, ids };
}
