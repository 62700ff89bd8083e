/**
 * The pure parts of the result tiers: the archive unit's encoding, its object key, the
 * scheduler's at() expressions both ways, S3 notification keys, and the session notice's text.
 */
import test from "ava";
import { finishedMessage } from "../../core/sessions/session-finished.ts";
import { decodeUnit, encodeUnit, unitObjectKey } from "../../core/tiers/archive-unit.ts";
import { atExpression, scheduleName } from "../../core/tiers/delayed-requests.ts";
import { parseUnitObjectKey } from "../../core/tiers/restore-results.ts";
import { decodeS3Key } from "../../handlers/restorer.ts";
import { atTime } from "../../local/runtime/scheduler-pump.ts";

test("a unit's outputs come back exactly as they went in, opaque JSON strings included", async (t) => {
  const entries = [
    { JobId: "a", Seq: 1, OutputJson: '{"tiny":-2.75e-145,"big":1e308}' },
    { JobId: "b", Seq: 2 },
    { JobId: "c", Seq: 3, OutputJson: JSON.stringify({ text: "line\nbreak, ünïcode" }) },
  ];
  const body = await encodeUnit(entries);
  t.is(body[0], 0x1f, "gzip");
  t.deepEqual(await decodeUnit(body), entries);
});

test("a unit's object key names its owner, session and range, and parses back", (t) => {
  const key = unitObjectKey("ada", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 11, 250);
  t.is(key, "archives/ada/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/11-250.jsonl.gz");
  t.deepEqual(parseUnitObjectKey(key), {
    username: "ada",
    sessionId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    first: 11,
    last: 250,
  });
  t.is(parseUnitObjectKey("outputs/ada/s/j.json"), undefined);
  t.is(parseUnitObjectKey("archives/ada/s/../x.jsonl.gz"), undefined);
});

test("at() is in UTC, rounded up to the second, and reads back as the same time", (t) => {
  const at = Date.parse("2026-12-01T10:20:30.250Z");
  t.is(atExpression(at), "at(2026-12-01T10:20:31)");
  t.is(atTime(atExpression(at)), Date.parse("2026-12-01T10:20:31Z"));
  t.true(atTime(atExpression(at)) >= at, "never before its time");
  t.true(Number.isNaN(atTime("rate(5 minutes)")));
  t.true(Number.isNaN(atTime(undefined)));
});

test("schedule names are unique per request and fit the scheduler's 64 characters", (t) => {
  const request = {
    kind: "archive" as const,
    username: "ada",
    sessionId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    at: 1796130033878,
    graceSeconds: 3600,
  };
  const name = scheduleName(request);
  t.true(name.length <= 64);
  t.not(name, scheduleName({ ...request, at: request.at + 1000 }));
  t.regex(name, /^[0-9a-zA-Z-_.]+$/);
});

test("S3 notification keys are decoded, '+' as a space and moto's %2F as '/'", (t) => {
  t.is(decodeS3Key("archives%2Fada%2Fs%2F1-2.jsonl.gz"), "archives/ada/s/1-2.jsonl.gz");
  t.is(decodeS3Key("archives/a+b/s/1-2.jsonl.gz"), "archives/a b/s/1-2.jsonl.gz");
});

test("the session notice names the session, counts what happened, and says how to read the results", (t) => {
  const counts = {
    create: 0,
    pause: 0,
    submit: 0,
    setup: 0,
    running: 0,
    success: 98,
    error: 2,
    terminate: 0,
    expired: 0,
  };
  const text = finishedMessage("s-1", counts);
  t.regex(text, /session s-1 has ended/);
  t.regex(text, /success\s+98/);
  t.regex(text, /error\s+2/);
  t.notRegex(text, /terminate/);
  t.regex(text, /foqus-cloud session results s-1/);
});
