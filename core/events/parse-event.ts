/** @module events/parse-event — validating an event from a queue message body. */
import * as z from "zod";
import { validate } from "../validation.ts";
import { type ErrorClass, ErrorClasses, EventTypes, type FoqusEvent } from "./events.ts";

const EventSchema = z.object({
  id: z.string().min(1),
  event: z.enum(Object.values(EventTypes) as [string, ...string[]]),
  time: z.string().min(1),
  username: z.string().min(1),
  session: z.string().min(1),
  job: z.string().optional(),
  application: z.string().optional(),
  simulation: z.string().optional(),
  consumer: z.string().optional(),
  setupTime: z.string().optional(),
  runningTime: z.string().optional(),
  leaseUntil: z.string().optional(),
  outputJson: z.string().optional(),
  outputKey: z.string().optional(),
  message: z.string().optional(),
  errorClass: z.enum(Object.values(ErrorClasses) as [ErrorClass, ...ErrorClass[]]).optional(),
});

/** The event in a message body; throws (so the message is retried, then dead-lettered) if invalid. */
export function parseEvent(body: string): FoqusEvent {
  return validate(EventSchema, JSON.parse(body), "event") as FoqusEvent;
}
