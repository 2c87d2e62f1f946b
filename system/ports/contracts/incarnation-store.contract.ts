import { describe, expect, it } from 'vitest';
import type { IncarnationStore } from '../incarnation-store.js';
import { range, uniqueHex, useSubject, type Disposable } from './support.js';

export interface IncarnationStoreSubject extends Disposable {
  /** A store on storage that holds no incarnation yet (a world's first start). */
  open(): Promise<IncarnationStore>;
  /**
   * Another handle on the storage of `store`: another gateway, or the same one after a restart
   * (the memory store: the same object, since its storage is the object itself).
   */
  reopen(store: IncarnationStore): Promise<IncarnationStore>;
}

/**
 * The IncarnationStore contract: the first incarnation stored is the one every later call, on
 * any handle to the same storage, gets back; racing first starts agree on one.
 */
export function incarnationStoreContract(name: string, make: () => Promise<IncarnationStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);

    it('stores the candidate at the first start and returns it', async () => {
      const store = await subject().open();
      const first = uniqueHex();
      expect(await store.establish(first)).toBe(first);
    });

    it('keeps the first incarnation: later candidates are ignored', async () => {
      const store = await subject().open();
      const first = uniqueHex();
      await store.establish(first);
      expect(await store.establish(uniqueHex())).toBe(first);
      expect(await store.establish(uniqueHex())).toBe(first);
    });

    it('gives a restarted gateway (another handle on the same storage) the same incarnation', async () => {
      const store = await subject().open();
      const first = uniqueHex();
      await store.establish(first);
      const restarted = await subject().reopen(store);
      expect(await restarted.establish(uniqueHex())).toBe(first);
    });

    it('of first starts racing, all agree on one of their candidates', async () => {
      const store = await subject().open();
      const candidates = range(1, 8).map(() => uniqueHex());
      const handles = await Promise.all(candidates.map(() => subject().reopen(store)));
      const outcomes = await Promise.all(handles.map((handle, i) => handle.establish(candidates[i]!)));
      expect(new Set(outcomes).size).toBe(1);
      expect(candidates).toContain(outcomes[0]);
      expect(await store.establish(uniqueHex())).toBe(outcomes[0]);
    });

    it('gives storage that starts empty an incarnation of its own', async () => {
      const a = await subject().open();
      const b = await subject().open();
      const first = uniqueHex();
      await a.establish(first);
      const other = uniqueHex();
      expect(await b.establish(other)).toBe(other);
      expect(await a.establish(uniqueHex())).toBe(first);
    });
  });
}
