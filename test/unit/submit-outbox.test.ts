/** Which stream records become job.submit events (core/jobs/submit-outbox.ts), pure. */
import test from "ava";
import type { DynamoDBRecord } from "aws-lambda";
import { submitEventsOf } from "../../core/jobs/submit-outbox.ts";

const image = (state: string) => ({
  SessionId: { S: "s1" },
  JobId: { S: "j1" },
  Username: { S: "alice" },
  Application: { S: "fake" },
  State: { S: state },
  Submit: { S: "2026-01-01T00:00:00.000Z" },
});

function record(
  eventID: string,
  eventName: "INSERT" | "MODIFY",
  from: string | undefined,
  to: string,
): DynamoDBRecord {
  return {
    eventID,
    eventName,
    dynamodb: {
      SequenceNumber: eventID,
      NewImage: image(to),
      ...(from ? { OldImage: image(from) } : {}),
    },
  } as DynamoDBRecord;
}

test("a change into submit is a job.submit with the job's routing fields and the record's id", (t) => {
  const events = submitEventsOf([
    record("e1", "MODIFY", "create", "submit"),
    record("e2", "MODIFY", "pause", "submit"),
  ]);
  t.deepEqual(
    events.map(({ event }) => event),
    ["e1", "e2"].map((id) => ({
      id: `submit:${id}`,
      event: "job.submit",
      time: "2026-01-01T00:00:00.000Z",
      username: "alice",
      session: "s1",
      job: "j1",
      application: "fake",
    })),
  );
});

test("anything else is no submit: a new job, a change within submit, a move out of submit", (t) => {
  t.deepEqual(
    submitEventsOf([
      record("a", "INSERT", undefined, "create"),
      record("b", "MODIFY", "submit", "submit"),
      record("c", "MODIFY", "submit", "pause"),
      record("d", "MODIFY", "submit", "setup"),
    ]),
    [],
  );
});

test("the same record delivered twice is the same event (the same id)", (t) => {
  const once = submitEventsOf([record("e9", "MODIFY", "create", "submit")]);
  const again = submitEventsOf([record("e9", "MODIFY", "create", "submit")]);
  t.is(once[0]?.event.id, again[0]?.event.id);
});

test("the start call's trace header, written with the claim, travels on the job.submit", (t) => {
  const traced = record("e3", "MODIFY", "create", "submit");
  const header = "Root=1-6a1b2c3d-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
  (traced.dynamodb!.NewImage as Record<string, { S: string }>).TraceHeader = { S: header };
  const [submitted] = submitEventsOf([traced]);
  t.is(submitted?.event.trace, header);
});
