/** The CLI's progress line and summary table: what a person reads while a run goes and after. */
import test from "ava";
import {
  formatDuration,
  ProgressDisplay,
  progressLine,
  RateMeter,
  summaryTable,
} from "../../cli/progress.ts";

test("the progress line shows the bar, the counts per state, the throughput and the ETA", (t) => {
  const line = progressLine(
    { total: 200, counts: { success: 90, error: 10, running: 4, submit: 96 }, elapsedMs: 10_000, rate: 10 },
    120,
  );
  t.regex(line, /^\[#+-+\] 100\/200 50%/);
  t.regex(line, /success 90 · error 10 · running 4 · queued 96/);
  t.regex(line, /10 jobs\/s {2}ETA 10s$/);
  t.true(line.length <= 120);
  t.regex(progressLine({ total: 5, counts: { success: 5 }, elapsedMs: 65_000, rate: 1 }), /done in 1m05s$/);
  const early = progressLine({ total: 0, counts: {}, elapsedMs: 500, rate: undefined, appending: true });
  t.regex(early, /0\/0\+ 0%.*appending…$/);
  t.notRegex(early, /done/);
});

test("the rate is measured over the recent window, not from the start", (t) => {
  const meter = new RateMeter(10_000);
  t.is(meter.add(0, 0), undefined);
  t.is(meter.add(5_000, 50), 10);
  meter.add(20_000, 50); // a stall, then a burst: only the last 10 s count
  t.is(meter.add(25_000, 250), 200 / 5);
});

test("nothing is drawn when the stream is not a terminal", (t) => {
  let written = "";
  const stream = {
    isTTY: false,
    write: (text: string) => {
      written += text;
      return true;
    },
  } as never;
  const display = new ProgressDisplay(stream);
  display.update({ total: 1, counts: {}, elapsedMs: 0, rate: undefined });
  display.end();
  t.is(written, "");
  t.false(display.enabled);
});

test("the summary table lists the states with their shares and the run's figures", (t) => {
  const table = summaryTable({ success: 3, error: 1 }, [["session", "abc"]]);
  t.is(
    table,
    [
      "state    jobs  share",
      "success     3  75.0%",
      "error       1  25.0%",
      "total       4",
      "session  abc",
      "",
    ].join("\n"),
  );
  t.is(formatDuration(3_725_000), "1h02m");
});
