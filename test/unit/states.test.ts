import test from "ava";
import { canTransition, isTerminal, type JobState, JobStates, statesBefore } from "../../core/jobs/states.ts";

test("a job moves forward through setup and running to a terminal state", (t) => {
  t.true(canTransition("submit", "setup"));
  t.true(canTransition("setup", "running"));
  t.true(canTransition("running", "success"));
  t.true(canTransition("running", "error"));
});

test("a late running event after success changes nothing", (t) => {
  t.false(canTransition("success", "running"));
  t.false(canTransition("success", "setup"));
});

test("terminal states are final: the first one wins", (t) => {
  const terminal: JobState[] = ["success", "error", "terminate", "expired"];
  for (const from of terminal) {
    for (const to of Object.values(JobStates)) t.false(canTransition(from, to), `${from} → ${to}`);
  }
});

test("a duplicate event does not apply twice", (t) => {
  for (const state of Object.values(JobStates)) t.false(canTransition(state, state), state);
});

test("stop and start toggle between submit and pause only", (t) => {
  t.true(canTransition("submit", "pause"));
  t.true(canTransition("pause", "submit"));
  t.true(canTransition("create", "submit"));
  t.false(canTransition("create", "pause"));
  t.false(canTransition("running", "pause"));
});

test("kill terminates every unfinished state", (t) => {
  t.deepEqual(statesBefore("terminate").sort(), ["create", "pause", "running", "setup", "submit"]);
  t.true(isTerminal("terminate"));
  t.false(isTerminal("running"));
});

test("a worker event may overtake the submit event (out of order)", (t) => {
  t.true(canTransition("create", "setup"));
  t.true(canTransition("create", "success"));
});
