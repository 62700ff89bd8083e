/**
 * @module local/runtime/scheduler-pump
 * What EventBridge Scheduler does with the archive schedules, which moto stores but never fires
 * (notes/archive-restore.md): every few seconds, each one-time schedule of the archive group
 * whose at() time has come has its input sent to its target queue, and is deleted, as
 * ActionAfterCompletion DELETE does on AWS. Only the archive queue is a known target.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from "@aws-sdk/client-scheduler";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { schedulerClient } from "../../core/aws/scheduler-client.ts";
import { sqsClient } from "../../core/aws/sqs-client.ts";
import { config } from "../../core/config.ts";

export interface SchedulerPump {
  stop(): Promise<void>;
}

/** The time of an at(yyyy-mm-ddThh:mm:ss) expression in UTC, as epoch ms (NaN for anything else). */
export function atTime(expression: string | undefined): number {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression ?? "");
  return match ? Date.parse(`${match[1]}Z`) : Number.NaN;
}

async function fireDue(now: number): Promise<number> {
  const group = config.archiveScheduleGroup;
  const { Schedules } = await schedulerClient().send(new ListSchedulesCommand({ GroupName: group }));
  let fired = 0;
  for (const summary of Schedules ?? []) {
    const schedule = await schedulerClient().send(
      new GetScheduleCommand({ Name: summary.Name, GroupName: group }),
    );
    if (!(atTime(schedule.ScheduleExpression) <= now)) continue;
    if (schedule.Target?.Arn === config.archiveQueueArn) {
      await sqsClient().send(
        new SendMessageCommand({
          QueueUrl: config.archiveQueueUrl,
          MessageBody: schedule.Target.Input ?? "{}",
        }),
      );
    }
    await schedulerClient().send(new DeleteScheduleCommand({ Name: summary.Name, GroupName: group }));
    fired += 1;
  }
  return fired;
}

export function startSchedulerPump(
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
) {
  let running = true;
  const stopped = new AbortController();
  const loop = (async () => {
    while (running) {
      try {
        await fireDue(Date.now());
      } catch (error) {
        if (running) options.onError?.(error);
      }
      await sleep(options.intervalMs ?? 5000, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      running = false;
      stopped.abort();
      await loop;
    },
  } satisfies SchedulerPump;
}
