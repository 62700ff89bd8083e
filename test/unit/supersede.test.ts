import test from "ava";
import type { EventType, FoqusEvent } from "../../core/events/events.ts";
import { supersededEvents } from "../../core/jobs/supersede.ts";

const event = (job: string, type: EventType): FoqusEvent => ({
  id: `${job}-${type}`,
  event: type,
  time: "2026-01-01T00:00:00.000Z",
  username: "u",
  session: "s",
  job,
});

test("a job's setup and running are superseded by its success in the same batch", (t) => {
  const batch = [
    event("a", "job.setup"),
    event("a", "job.running"),
    event("b", "job.setup"),
    event("a", "job.success"),
  ];
  t.deepEqual([...supersededEvents(batch)].sort(), [0, 1]);
});

test("the first terminal event of a job wins; later ones in the batch are superseded", (t) => {
  const batch = [event("a", "job.running"), event("a", "job.terminate"), event("a", "job.success")];
  t.deepEqual([...supersededEvents(batch)].sort(), [0, 2]);
});

test("a late lower-rank event after the winner is superseded too", (t) => {
  const batch = [event("a", "job.success"), event("a", "job.setup")];
  t.deepEqual([...supersededEvents(batch)], [1]);
});

test("unparseable records, submits and session events are never superseded", (t) => {
  const batch = [
    undefined,
    event("a", "job.submit"),
    { ...event("a", "session.kill"), job: undefined },
    event("a", "job.setup"),
  ];
  t.deepEqual([...supersededEvents(batch)], []);
});
