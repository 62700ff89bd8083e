/** @module clock — the one source of wall-clock time, injectable for tests. */

export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** ISO-8601 UTC timestamp, the format of every timestamp the API returns. */
export function isoNow(clock: Clock = systemClock): string {
  return clock().toISOString();
}
