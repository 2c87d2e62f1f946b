import { describe, expect, it } from 'vitest';
import type { ConversationId } from '../../core/ids.js';
import type { ReceiptStore, Watermarks } from '../receipt-store.js';
import { compareStrings, range, uniqueDevice, uniqueGroupId, uniqueUserId, useSubject, type Disposable } from './support.js';

export interface ReceiptStoreSubject extends Disposable {
  store: ReceiptStore;
}

/** The ReceiptStore contract: per (conversation, device) delivered/read watermarks that only rise. */
export function receiptStoreContract(name: string, make: () => Promise<ReceiptStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;

    async function listSorted(conversationId: ConversationId): Promise<Watermarks[]> {
      return [...(await store().list(conversationId))].sort(
        (a, b) => compareStrings(a.userId, b.userId) || compareStrings(a.deviceId, b.deviceId),
      );
    }

    it('an unknown conversation has no watermarks', async () => {
      expect(await store().list(uniqueGroupId())).toEqual([]);
    });

    it('the first advance starts from 0 and the other state stays 0', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      expect(await store().advance(conversationId, device, 'delivered', 5)).toEqual({ previousSeq: 0, currentSeq: 5 });
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 5, readSeq: 0 }]);
    });

    it('watermarks only rise: lower or equal values leave them unchanged', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      expect(await store().advance(conversationId, device, 'read', 5)).toEqual({ previousSeq: 0, currentSeq: 5 });
      expect(await store().advance(conversationId, device, 'read', 3)).toEqual({ previousSeq: 5, currentSeq: 5 });
      expect(await store().advance(conversationId, device, 'read', 5)).toEqual({ previousSeq: 5, currentSeq: 5 });
      expect(await store().advance(conversationId, device, 'read', 8)).toEqual({ previousSeq: 5, currentSeq: 8 });
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 0, readSeq: 8 }]);
    });

    it('delivered and read are independent', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      await store().advance(conversationId, device, 'delivered', 10);
      expect(await store().advance(conversationId, device, 'read', 4)).toEqual({ previousSeq: 0, currentSeq: 4 });
      expect(await store().advance(conversationId, device, 'delivered', 7)).toEqual({ previousSeq: 10, currentSeq: 10 });
      expect(await store().advance(conversationId, device, 'read', 6)).toEqual({ previousSeq: 4, currentSeq: 6 });
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 10, readSeq: 6 }]);
    });

    it('lists one entry per device; devices and conversations are independent', async () => {
      const conversationId = uniqueGroupId();
      const other = uniqueGroupId();
      const alice = uniqueUserId('alice');
      const phone = { userId: alice, deviceId: 'phone' };
      const laptop = { userId: alice, deviceId: 'laptop' };
      const bobPhone = { userId: uniqueUserId('bob'), deviceId: 'phone' };
      await store().advance(conversationId, phone, 'delivered', 3);
      await store().advance(conversationId, phone, 'read', 2);
      await store().advance(conversationId, laptop, 'delivered', 1);
      await store().advance(conversationId, bobPhone, 'read', 9);
      await store().advance(other, phone, 'delivered', 42);
      expect(await listSorted(conversationId)).toEqual(
        [
          { ...phone, deliveredSeq: 3, readSeq: 2 },
          { ...laptop, deliveredSeq: 1, readSeq: 0 },
          { ...bobPhone, deliveredSeq: 0, readSeq: 9 },
        ].sort((a, b) => compareStrings(a.userId, b.userId) || compareStrings(a.deviceId, b.deviceId)),
      );
      expect(await store().list(other)).toEqual([{ ...phone, deliveredSeq: 42, readSeq: 0 }]);
    });

    it('concurrent advances never lower a watermark', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      const seqs = [7, 3, 20, 1, 15, 20, 9, 12, 2, 18, 5, 11];
      const results = await Promise.all(seqs.map((seq) => store().advance(conversationId, device, 'delivered', seq)));
      for (const [i, result] of results.entries()) {
        expect(result.currentSeq).toBeGreaterThanOrEqual(seqs[i]!);
        expect(result.currentSeq).toBeGreaterThanOrEqual(result.previousSeq);
      }
      expect(results.filter((r) => r.currentSeq === 20 && r.previousSeq < 20)).toHaveLength(1);
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 20, readSeq: 0 }]);
    });

    it('a blind raise only rises: raising 5 then 3 leaves 5', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      await store().raise(conversationId, device, 'delivered', 5);
      await store().raise(conversationId, device, 'delivered', 3);
      await store().raise(conversationId, device, 'read', 2);
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 5, readSeq: 2 }]);
      await store().raise(conversationId, device, 'delivered', 9);
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 9, readSeq: 2 }]);
    });

    it('concurrent blind raises keep the highest', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      const seqs = [7, 3, 20, 1, 15, 20, 9, 12, 2, 18, 5, 11];
      await Promise.all(seqs.map((seq) => store().raise(conversationId, device, 'read', seq)));
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 0, readSeq: 20 }]);
    });

    it('raise and advance share one watermark', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      await store().raise(conversationId, device, 'delivered', 6);
      expect(await store().advance(conversationId, device, 'delivered', 4)).toEqual({ previousSeq: 6, currentSeq: 6 });
      expect(await store().advance(conversationId, device, 'delivered', 8)).toEqual({ previousSeq: 6, currentSeq: 8 });
      await store().raise(conversationId, device, 'delivered', 7);
      expect(await store().list(conversationId)).toEqual([{ ...device, deliveredSeq: 8, readSeq: 0 }]);
    });

    it('a long run of rising advances reports each step', async () => {
      const conversationId = uniqueGroupId();
      const device = uniqueDevice();
      for (const seq of range(1, 20)) {
        expect(await store().advance(conversationId, device, 'read', seq)).toEqual({ previousSeq: seq - 1, currentSeq: seq });
      }
    });
  });
}
