/**
 * @module jobs/supersede
 * Within one batch of events, a job's earlier events are superseded by its latest one: applying
 * the latest alone gives the same record (later events repeat the earlier timestamps), with one
 * write instead of three when a fast job's setup, running and success arrive together.
 */
import { EVENT_TARGET_STATE, type FoqusEvent } from "../events/events.ts";
import { isTerminal, JOB_STATE_RANK } from "./states.ts";

/**
 * Indexes of the events that need no write of their own: a lower-rank event of a job whose
 * higher-rank event is in the same batch, and every terminal event after a job's first one
 * (the first terminal state wins, and a later one would be refused anyway).
 */
export function supersededEvents(events: (FoqusEvent | undefined)[]): Set<number> {
  const winner = new Map<string, number>();
  const rankOf = (event: FoqusEvent) => {
    const state = EVENT_TARGET_STATE[event.event];
    return state && state !== "submit" ? JOB_STATE_RANK[state] : undefined;
  };
  events.forEach((event, index) => {
    if (!event?.job || rankOf(event) === undefined) return;
    const key = `${event.session}/${event.job}`;
    const current = winner.get(key);
    const currentEvent = current === undefined ? undefined : events[current];
    const rank = rankOf(event)!;
    const currentRank = currentEvent ? rankOf(currentEvent)! : -1;
    const currentIsTerminal = currentEvent ? isTerminal(EVENT_TARGET_STATE[currentEvent.event]!) : false;
    if (rank > currentRank && !currentIsTerminal) winner.set(key, index);
  });
  const superseded = new Set<number>();
  events.forEach((event, index) => {
    if (!event?.job || rankOf(event) === undefined) return;
    const chosen = winner.get(`${event.session}/${event.job}`);
    if (chosen !== undefined && chosen !== index) superseded.add(index);
  });
  return superseded;
}
