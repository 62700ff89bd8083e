/**
 * X-Ray tracing of a job (core/tracing/trace-header.ts, worker/xray-segments.ts): the header is
 * read as X-Ray writes it, events made in a traced invocation carry it, and the worker's segment
 * reaches a daemon's UDP port in the daemon's protocol, parented on the job's trace.
 */
import { createSocket } from "node:dgram";
import test from "ava";
import { newEvent } from "../../core/events/event-publisher.ts";
import { parseTraceHeader } from "../../core/tracing/trace-header.ts";
import { segmentDocument, XRaySegments } from "../../worker/xray-segments.ts";

const ROOT = "1-6a1b2c3d-0123456789abcdef01234567";
const HEADER = `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1`;

test("a trace header is read as X-Ray writes it; one without a valid root is none", (t) => {
  t.deepEqual(parseTraceHeader(HEADER), { root: ROOT, parent: "53995c3f42cd8ad8", sampled: true });
  t.deepEqual(parseTraceHeader(`Root=${ROOT};Sampled=0`), { root: ROOT, sampled: false });
  t.is(parseTraceHeader("Root=not-a-root;Sampled=1"), undefined);
  t.is(parseTraceHeader(undefined), undefined);
});

test("an event made in a traced invocation carries its trace header; one given explicitly wins", (t) => {
  const before = process.env._X_AMZN_TRACE_ID;
  process.env._X_AMZN_TRACE_ID = HEADER;
  try {
    t.is(newEvent({ event: "job.terminate", username: "u", session: "s", job: "j" }).trace, HEADER);
    const own = `Root=${ROOT};Sampled=1`;
    t.is(newEvent({ event: "job.success", username: "u", session: "s", job: "j", trace: own }).trace, own);
  } finally {
    if (before === undefined) delete process.env._X_AMZN_TRACE_ID;
    else process.env._X_AMZN_TRACE_ID = before;
  }
  t.is(newEvent({ event: "job.success", username: "u", session: "s", job: "j" }).trace, undefined);
});

test("a run's segment reaches the daemon's UDP port, parented on the job's trace; unsampled runs send none", async (t) => {
  const daemon = createSocket("udp4");
  await new Promise<void>((resolve) => daemon.bind(0, "127.0.0.1", resolve));
  const { port } = daemon.address();
  const received = new Promise<string>((resolve) =>
    daemon.once("message", (message) => resolve(String(message))),
  );
  const segments = new XRaySegments(`127.0.0.1:${port}`);
  t.teardown(() => {
    segments.close();
    daemon.close();
  });
  segments.record({
    trace: `Root=${ROOT};Sampled=0`,
    start: 1000,
    end: 2000,
    outcome: "succeeded",
    annotations: {},
  });
  segments.record({
    trace: HEADER,
    start: 1_700_000_000_000,
    end: 1_700_000_002_500,
    outcome: "failed",
    annotations: { job: "j1", session: "s1" },
  });
  const [header, body] = (await received).split("\n");
  t.deepEqual(JSON.parse(header ?? ""), { format: "json", version: 1 });
  const segment = JSON.parse(body ?? "") as Record<string, unknown>;
  t.is(segment.trace_id, ROOT, "the unsampled run sent nothing, so this is the sampled one");
  t.is(segment.parent_id, "53995c3f42cd8ad8");
  t.is(segment.end_time, 1_700_000_002.5);
  t.true(segment.error as boolean);
  t.deepEqual(segment.annotations, { job: "j1", session: "s1", outcome: "failed" });
  t.regex(String(segment.id), /^[0-9a-f]{16}$/);
});

test("a run without a trace has no segment", (t) => {
  t.is(
    segmentDocument("w", { trace: undefined, start: 0, end: 1, outcome: "succeeded", annotations: {} }),
    undefined,
  );
});
