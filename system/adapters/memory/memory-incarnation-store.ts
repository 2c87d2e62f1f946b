import type { IncarnationStore } from '../../ports/incarnation-store.js';

/**
 * The incarnation in memory: it lives exactly as long as the in-memory stores it sits beside, so a
 * process that starts with empty stores starts a new incarnation, and stores carried over to a new
 * process (tests of a restart, the simulator's backends) keep theirs.
 */
export class MemoryIncarnationStore implements IncarnationStore {
  private value: string | undefined;

  async establish(candidate: string): Promise<string> {
    this.value ??= candidate;
    return this.value;
  }
}
