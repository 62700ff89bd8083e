/**
 * @module batcher
 * Collects items from every job in hand and sends them in batches: up to `batchSize` a call,
 * sent when that many are waiting or after a short linger. `add` resolves only once the item's
 * batch was sent, so a caller that awaits it knows its item went out. The worker uses one for
 * events (SNS PublishBatch, 10 a call) and one for finished messages (SQS DeleteMessageBatch,
 * 10 a call): per-job requests shrink by up to ten times when jobs run side by side.
 */

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Batcher<T> {
  private queue: Pending<T>[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (items: T[]) => Promise<void>,
    private readonly lingerMs = 20,
    private readonly batchSize = 10,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
        await this.send(batch.map((pending) => pending.item));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}
