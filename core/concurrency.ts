/** @module concurrency — bounded parallel map, for fan-out of per-item AWS calls. */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep input order.
 * After a call fails no new call starts, and the failure is thrown only once the calls already
 * in flight have ended: nothing keeps running behind a request that has answered.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
  return results;
}
