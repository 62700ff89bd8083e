/**
 * @module aws/scheduler-client
 * The process's EventBridge Scheduler client (aws/clients.ts), and the commands core sends with
 * it. Loaded with `await import()` where needed (archive requests beyond SQS's 900 s delay, at
 * most once per session), so it is a chunk of its own (handlers/build.ts).
 */
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { clientOptions, sharedClient } from "./clients.ts";

export {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-scheduler";

export function schedulerClient(): SchedulerClient {
  return sharedClient("Scheduler", () => new SchedulerClient(clientOptions()));
}
