import { describe, expect, it } from 'vitest';
import type { CommitRef, GroupEpochStore } from '../group-epoch-store.js';
import { range, uniqueGroupId, uniqueHex, useSubject, type Disposable } from './support.js';

export interface GroupEpochStoreSubject extends Disposable {
  store: GroupEpochStore;
}

function commit(label = 'c'): CommitRef {
  return { userId: 'alice', deviceId: 'phone', clientMessageId: `${label}-${uniqueHex()}` };
}

/** The GroupEpochStore contract: one commit per epoch, the first one; retries of it are recognised. */
export function groupEpochStoreContract(name: string, make: () => Promise<GroupEpochStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;

    it('a conversation without commits is at epoch 0', async () => {
      expect(await store().current(uniqueGroupId())).toBe(0);
    });

    it('advances one epoch per commit, from the current epoch only', async () => {
      const id = uniqueGroupId();
      expect(await store().advance(id, 0, commit())).toEqual({ outcome: 'advanced' });
      expect(await store().current(id)).toBe(1);
      expect(await store().advance(id, 0, commit())).toEqual({ outcome: 'conflict', currentEpoch: 1 });
      expect(await store().advance(id, 5, commit())).toEqual({ outcome: 'conflict', currentEpoch: 1 });
      expect(await store().advance(id, 1, commit())).toEqual({ outcome: 'advanced' });
      expect(await store().current(id)).toBe(2);
    });

    it('recognises a retry of the commit that opened an epoch, even after later epochs', async () => {
      const id = uniqueGroupId();
      const first = commit('first');
      expect(await store().advance(id, 0, first)).toEqual({ outcome: 'advanced' });
      expect(await store().advance(id, 0, { ...first })).toEqual({ outcome: 'repeat' });
      await store().advance(id, 1, commit());
      expect(await store().advance(id, 0, { ...first })).toEqual({ outcome: 'repeat' });
      // The same id from another device is another commit.
      expect(await store().advance(id, 0, { ...first, deviceId: 'laptop' })).toEqual({ outcome: 'conflict', currentEpoch: 2 });
      expect(await store().current(id)).toBe(2);
    });

    it('of commits racing for one epoch, exactly one wins', async () => {
      const id = uniqueGroupId();
      await store().advance(id, 0, commit());
      const outcomes = await Promise.all(range(1, 8).map((i) => store().advance(id, 1, commit(`racer${i}`))));
      expect(outcomes.filter((o) => o.outcome === 'advanced')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'conflict')).toEqual(Array(7).fill({ outcome: 'conflict', currentEpoch: 2 }));
      expect(await store().current(id)).toBe(2);
    });

    it('keeps conversations apart', async () => {
      const a = uniqueGroupId();
      const b = uniqueGroupId();
      await store().advance(a, 0, commit());
      expect(await store().current(b)).toBe(0);
      expect(await store().advance(b, 0, commit())).toEqual({ outcome: 'advanced' });
    });
  });
}
