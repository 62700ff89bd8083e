import test from "ava";
import { supersededEvents } from "../../core/jobs/supersede.ts";
import { makeEvent } from "../helpers/factories.ts";

test("a job's setup and running are superseded by its success in the same batch", (t) => {
  const batch = [
    makeEvent("job.setup", { job: "a" }),
    makeEvent("job.running", { job: "a" }),
    makeEvent("job.setup", { job: "b" }),
    makeEvent("job.success", { job: "a" }),
  ];
  t.deepEqual([...supersededEvents(batch)].sort(), [0, 1]);
});

test("the first terminal event of a job wins; later ones in the batch are superseded", (t) => {
  const batch = [
    makeEvent("job.running", { job: "a" }),
    makeEvent("job.terminate", { job: "a" }),
    makeEvent("job.success", { job: "a" }),
  ];
  t.deepEqual([...supersededEvents(batch)].sort(), [0, 2]);
});

test("a late lower-rank event after the winner is superseded too", (t) => {
  const batch = [makeEvent("job.success", { job: "a" }), makeEvent("job.setup", { job: "a" })];
  t.deepEqual([...supersededEvents(batch)], [1]);
});

test("unparseable records, submits and session events are never superseded", (t) => {
  const batch = [
    undefined,
    makeEvent("job.submit", { job: "a" }),
    makeEvent("session.kill"),
    makeEvent("job.setup", { job: "a" }),
  ];
  t.deepEqual([...supersededEvents(batch)], []);
});
