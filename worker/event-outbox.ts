/**
 * @module event-outbox
 * Collects the events of every job in hand and publishes them with SNS PublishBatch: up to 10 a
 * call, sent when 10 are waiting or after a short linger. `publish` resolves only once the
 * event's batch is accepted, so a caller that deletes its SQS message after awaiting the final
 * event never deletes a job whose result is unpublished.
 */

import { publishEvents } from "../core/events/event-publisher.ts";
import type { FoqusEvent } from "../core/events/events.ts";

interface Pending {
  event: FoqusEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class EventOutbox {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (events: FoqusEvent[]) => Promise<void> = publishEvents,
    private readonly lingerMs = 20,
    private readonly batchSize = 10,
  ) {}

  publish(event: FoqusEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (this.queue.length >= this.batchSize) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.lingerMs);
    });
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        await this.send(batch.map((pending) => pending.event));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}
