import type { WalEntry, WalEntryDraft, WriteAheadLog } from '../../ports/write-ahead-log.js';

/**
 * The WAL kept in memory: the embedded and simulated worlds, where "durable" means "survives
 * as long as the world does". A simulated restart keeps the object and reopens it.
 */
export class MemoryWriteAheadLog implements WriteAheadLog {
  private readonly entries = new Map<number, WalEntry>();
  private nextId = 1;

  append(draft: WalEntryDraft): Promise<WalEntry> {
    const entry: WalEntry = { ...draft, id: this.nextId++ };
    this.entries.set(entry.id, entry);
    return Promise.resolve(entry);
  }

  complete(id: number): Promise<void> {
    this.entries.delete(id);
    return Promise.resolve();
  }

  pending(): readonly WalEntry[] {
    return [...this.entries.values()];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
