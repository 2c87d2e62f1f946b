import type { HistoryEvent } from '../checker/history.js';
import type { HistorySink } from '../sdk/index.js';

/**
 * Test-only: a history sink that loses the Nth live message delivery, as if the system had never
 * delivered that message to that device. It exists to prove the gate: the checker must catch it
 * (durability and order) and the run must exit 1 with a witness.
 */
export class DroppingHistorySink implements HistorySink {
  private seen = 0;
  dropped: HistoryEvent | undefined;

  constructor(
    private readonly inner: HistorySink,
    private readonly dropNth: number,
  ) {}

  record(event: HistoryEvent): void {
    if (event.type === 'deliver' && event.via === 'live' && event.kind === 'message' && ++this.seen === this.dropNth) {
      this.dropped = event;
      return;
    }
    this.inner.record(event);
  }
}
