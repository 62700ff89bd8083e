/** @module events/parse-event — validating an event from a queue message body. */
import { validate } from "../validation.ts";
import * as z from "../zod.ts";
import { type ErrorClass, ErrorClasses, EventTypes, type FoqusEvent } from "./events.ts";

const EventSchema = z.object({
  id: z.string().check(z.minLength(1)),
  event: z.enum(Object.values(EventTypes) as [string, ...string[]]),
  time: z.string().check(z.minLength(1)),
  username: z.string().check(z.minLength(1)),
  session: z.string().check(z.minLength(1)),
  job: z.optional(z.string()),
  application: z.optional(z.string()),
  simulation: z.optional(z.string()),
  consumer: z.optional(z.string()),
  setupTime: z.optional(z.string()),
  runningTime: z.optional(z.string()),
  submitTime: z.optional(z.string()),
  trace: z.optional(z.string()),
  leaseUntil: z.optional(z.string()),
  outputJson: z.optional(z.string()),
  outputKey: z.optional(z.string()),
  message: z.optional(z.string()),
  errorClass: z.optional(z.enum(Object.values(ErrorClasses) as [ErrorClass, ...ErrorClass[]])),
});

/** The event in a message body; throws (so the message is retried, then dead-lettered) if invalid. */
export function parseEvent(body: string): FoqusEvent {
  return validate(EventSchema, JSON.parse(body), "event") as FoqusEvent;
}
