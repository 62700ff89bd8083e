/**
 * The worker's progress outbox (worker/progress-outbox.ts): a fast job publishes only its end,
 * which carries its setup and running times; a slow one publishes its progress after the hold;
 * nothing is reordered or lost.
 */
import test from "ava";
import type { EventType, FoqusEvent } from "../../core/events/events.ts";
import { ProgressOutbox } from "../../worker/progress-outbox.ts";
import { makeEvent } from "../helpers/factories.ts";

class Sent {
  readonly events: FoqusEvent[] = [];
  fail = false;
  flushes = 0;
  async add(event: FoqusEvent): Promise<void> {
    if (this.fail) throw new Error("SNS down");
    this.events.push(event);
  }
  async flush(): Promise<void> {
    this.flushes += 1;
  }
  get names(): string[] {
    return this.events.map((event) => `${event.job}:${event.event}`);
  }
}

function outbox(holdMs: number) {
  const sent = new Sent();
  const warnings: string[] = [];
  const box = new ProgressOutbox(sent, holdMs, {
    warn: (...args: unknown[]) => {
      warnings.push(String(args[0]));
    },
  });
  return { sent, box, warnings };
}

const attempt = (job: string, event: EventType, extra: Partial<FoqusEvent> = {}) =>
  makeEvent(event, { session: "s1", job, consumer: "w1", ...extra });

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a job that ends within the hold publishes only its end, with both earlier times on it", async (t) => {
  const { sent, box } = outbox(5_000);
  const setup = attempt("j1", "job.setup");
  await box.add(setup);
  const running = attempt("j1", "job.running", { setupTime: setup.time });
  await box.add(running);
  await box.add(attempt("j1", "job.success", { setupTime: setup.time, runningTime: running.time }));
  t.deepEqual(sent.names, ["j1:job.success"]);
  t.is(sent.events[0]?.setupTime, setup.time);
  t.is(sent.events[0]?.runningTime, running.time);
  t.is(box.holding, 0);
});

test("a job longer than the hold publishes its latest progress once the hold is over, then its end", async (t) => {
  const { sent, box } = outbox(30);
  await box.add(attempt("j1", "job.setup"));
  await box.add(attempt("j1", "job.running"));
  t.deepEqual(sent.names, [], "held, not yet sent");
  await wait(120);
  t.deepEqual(sent.names, ["j1:job.running"], "setup replaced by running");
  await box.add(attempt("j1", "job.error"));
  t.deepEqual(sent.names, ["j1:job.running", "j1:job.error"]);
});

test("a heartbeat or another event of the attempt sends what is held first; other jobs are untouched", async (t) => {
  const { sent, box } = outbox(5_000);
  await box.add(attempt("j1", "job.setup"));
  await box.add(attempt("j2", "job.setup"));
  await box.add(attempt("j1", "job.heartbeat"));
  t.deepEqual(sent.names, ["j1:job.setup", "j1:job.heartbeat"]);
  t.is(box.holding, 1, "j2's setup is still held");
  await box.flush();
  t.deepEqual(sent.names, ["j1:job.setup", "j1:job.heartbeat", "j2:job.setup"]);
  t.is(sent.flushes, 1);
});

test("a held event whose publish fails is logged, never thrown; an end's own failure is the caller's", async (t) => {
  const { sent, box, warnings } = outbox(10);
  sent.fail = true;
  await t.notThrowsAsync(box.add(attempt("j1", "job.setup")));
  await wait(60);
  t.is(warnings.length, 1);
  t.regex(warnings[0] ?? "", /next event carries its time/);
  await t.throwsAsync(box.add(attempt("j1", "job.success")), { message: "SNS down" });
});

test("with no hold every event goes straight through", async (t) => {
  const { sent, box } = outbox(0);
  await box.add(attempt("j1", "job.setup"));
  await box.add(attempt("j1", "job.running"));
  t.deepEqual(sent.names, ["j1:job.setup", "j1:job.running"]);
});
