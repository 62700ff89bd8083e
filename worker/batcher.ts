/**
 * @module batcher
 * Collects items from every job in hand and sends them in batches: up to `batchSize` a call,
 * sent when that many are waiting or after a short linger. `add` resolves only once the item's
 * batch was sent (and rejects if that send failed), so a caller that awaits it knows its item
 * went out. The worker uses one for events (SNS PublishBatch, 10 a call) and the SQS job queue
 * one for finished messages (DeleteMessageBatch, 10 a call): per-job requests shrink by up to
 * ten times when jobs run side by side.
 */

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Batcher<T> {
  private queue: Pending<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Batches being sent, by any flush: a flush waits for all of them. */
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly send: (items: T[]) => Promise<void>,
    private readonly lingerMs = 20,
    private readonly batchSize = 10,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // flush() never rejects (a failed send rejects the adds of its batch), so nothing is lost here.
      if (this.queue.length >= this.batchSize) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.lingerMs);
    });
  }

  /**
   * Sends every waiting item and resolves once every batch sent so far, by this flush or a
   * concurrent one, is done. Never rejects: a send's failure goes to the adds of its batch.
   */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const sending = this.sendBatch(this.queue.splice(0, this.batchSize));
      this.sending.add(sending);
      await sending;
      this.sending.delete(sending);
    }
    await Promise.all(this.sending);
  }

  private async sendBatch(batch: Pending<T>[]): Promise<void> {
    try {
      await this.send(batch.map((pending) => pending.item));
      for (const pending of batch) pending.resolve();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
