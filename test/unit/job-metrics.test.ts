/**
 * The update processor's job metrics (core/jobs/job-metrics.ts), as the dashboard reads them:
 * jobs entering each state, queued, setup, running and total durations of ended jobs, worker-lost ends.
 */
import test from "ava";
import { EventTypes, type FoqusEvent } from "../../core/events/events.ts";
import { countAppliedEvent, emptyJobMetrics } from "../../core/jobs/job-metrics.ts";

const base = { id: "e", username: "u", session: "s", application: "fake" };
const event = (fields: Partial<FoqusEvent> & Pick<FoqusEvent, "event">): FoqusEvent =>
  ({ ...base, job: "j", time: "2026-12-01T10:00:10.000Z", ...fields }) as FoqusEvent;

test("states are counted per event, durations per ended job, worker-lost ends apart", (t) => {
  const metrics = emptyJobMetrics();
  countAppliedEvent(metrics, event({ event: EventTypes.jobSubmit }));
  countAppliedEvent(metrics, event({ event: EventTypes.jobSetup }));
  countAppliedEvent(
    metrics,
    event({
      event: EventTypes.jobSuccess,
      submitTime: "2026-12-01T10:00:00.000Z",
      setupTime: "2026-12-01T10:00:01.000Z",
      runningTime: "2026-12-01T10:00:03.500Z",
    }),
  );
  countAppliedEvent(
    metrics,
    event({ event: EventTypes.jobError, errorClass: "worker-lost", runningTime: "2026-12-01T10:00:09.000Z" }),
  );
  t.deepEqual(metrics.entered, { submit: 1, setup: 1, success: 1, error: 1 });
  t.deepEqual(metrics.durations, { queued: [1], setup: [2.5], running: [6.5, 1], total: [10] });
  t.is(metrics.workerLost, 1);
});

test("events without a job, and times that do not parse or run backwards, count nothing of theirs", (t) => {
  const metrics = emptyJobMetrics();
  countAppliedEvent(metrics, {
    ...base,
    event: EventTypes.sessionStart,
    time: "2026-12-01T10:00:00Z",
  } as FoqusEvent);
  countAppliedEvent(
    metrics,
    event({ event: EventTypes.jobSuccess, runningTime: "2026-12-01T10:00:20.000Z" }),
  );
  countAppliedEvent(metrics, event({ event: EventTypes.jobSuccess, runningTime: "not a time" }));
  t.deepEqual(metrics.entered, { success: 2 });
  t.deepEqual(metrics.durations, {});
  t.is(metrics.workerLost, 0);
});
