import type { HistoryEvent } from '../checker/history.js';

/** Where a client writes what it observed. The simulator may supply its own sink. */
export interface HistorySink {
  record(event: HistoryEvent): void;
}

/**
 * One append-only array for a whole run, shared by every client in the process; the checker
 * reads it afterwards. Clients stamp events with their own clock, so give all clients of a run
 * the same clock (or clocks that agree) for the times to be comparable.
 */
export class HistoryRecorder implements HistorySink {
  readonly events: HistoryEvent[] = [];

  record(event: HistoryEvent): void {
    this.events.push(event);
  }
}
