/**
 * @module tiers/delayed-requests
 * An archive request delivered to the archive queue at a given time, behind one interface with
 * two carriers: SQS's per-message delay up to its 900 s limit (exact, and costs one request), and
 * an EventBridge Scheduler one-time schedule beyond that (deleted by the scheduler once it fired;
 * deleted by an upgrade before). Neither can be recalled reliably in time, so the archiver
 * re-checks the plan and the pending request when a request arrives. Both clients are loaded on
 * first use (aws/sqs-client.ts, aws/scheduler-client.ts): a request is sent at most once per
 * session per grace period.
 */

import { sqsModule } from "../aws/client-modules.ts";
import { config } from "../config.ts";

/**
 * What the archive queue carries. `at` names the pending request it is for (archive-store.ts);
 * `graceSeconds` is the grace its sender applied, so the archiver judges by the same period.
 */
export interface ArchiveRequest {
  kind: "archive";
  username: string;
  sessionId: string;
  at: number;
  graceSeconds: number;
}

/** SQS's longest per-message delay. */
export const MAX_SQS_DELAY_SECONDS = 900;

export interface DelayedRequests {
  /** Sends `request` to arrive at `request.at`; answers the schedule's name when one carries it. */
  sendAt(request: ArchiveRequest, now?: number): Promise<{ schedule?: string }>;
  /** Withdraws a scheduled request (nothing to do for one already fired or never scheduled). */
  cancel(schedule: string): Promise<void>;
}

/** A schedule name per request, unique in its group and within the scheduler's 64 characters. */
export function scheduleName(request: ArchiveRequest): string {
  return `archive-${request.sessionId}-${request.at}`.slice(0, 64);
}

/** at(yyyy-mm-ddThh:mm:ss) in UTC, rounded up: a schedule must never fire before its time. */
export function atExpression(epochMs: number): string {
  const seconds = Math.ceil(epochMs / 1000) * 1000;
  return `at(${new Date(seconds).toISOString().slice(0, 19)})`;
}

export const delayedRequests: DelayedRequests = {
  async sendAt(request, now = Date.now()) {
    const delay = Math.max(0, Math.ceil((request.at - now) / 1000));
    const body = JSON.stringify(request);
    if (delay <= MAX_SQS_DELAY_SECONDS) {
      const { SendMessageCommand, sqsClient } = await sqsModule();
      await sqsClient().send(
        new SendMessageCommand({ QueueUrl: config.archiveQueueUrl, MessageBody: body, DelaySeconds: delay }),
      );
      return {};
    }
    const name = scheduleName(request);
    const { ConflictException, CreateScheduleCommand, schedulerClient } = await import(
      "../aws/scheduler-client.ts"
    );
    try {
      await schedulerClient().send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: config.archiveScheduleGroup,
          ScheduleExpression: atExpression(request.at),
          ScheduleExpressionTimezone: "UTC",
          FlexibleTimeWindow: { Mode: "OFF" },
          ActionAfterCompletion: "DELETE",
          Target: { Arn: config.archiveQueueArn, RoleArn: config.archiveSchedulerRoleArn, Input: body },
        }),
      );
    } catch (error) {
      // The same request scheduled again (a retried event): it is already on its way.
      if (!(error instanceof ConflictException)) throw error;
    }
    return { schedule: name };
  },
  async cancel(schedule) {
    const { DeleteScheduleCommand, ResourceNotFoundException, schedulerClient } = await import(
      "../aws/scheduler-client.ts"
    );
    try {
      await schedulerClient().send(
        new DeleteScheduleCommand({ Name: schedule, GroupName: config.archiveScheduleGroup }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  },
};
