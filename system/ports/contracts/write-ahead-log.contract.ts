import { describe, expect, it } from 'vitest';
import type { WalEntryDraft, WriteAheadLog } from '../write-ahead-log.js';
import { useSubject, type Disposable } from './support.js';

export interface WriteAheadLogSubject extends Disposable {
  /** A fresh, empty log. */
  open(): Promise<WriteAheadLog>;
  /** The same log as the node would find it after a restart (the memory log: the same object). */
  reopen(log: WriteAheadLog): Promise<WriteAheadLog>;
}

function draft(n: number, conversationId = 'dm:alice:bob'): WalEntryDraft {
  return {
    conversationId,
    senderUserId: 'alice',
    senderDeviceId: 'phone',
    clientMessageId: `m-${n}`,
    bodyBase64: Buffer.from(`body ${n}`).toString('base64'),
    acceptedAtMs: 1_700_000_000_000 + n,
  };
}

/**
 * The WriteAheadLog contract: an appended entry stays pending, in append order, until completed —
 * across a restart too — and a completed one never comes back.
 */
export function writeAheadLogContract(name: string, make: () => Promise<WriteAheadLogSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);

    it('keeps appended entries pending in append order with increasing ids', async () => {
      const log = await subject().open();
      const entries = await Promise.all([1, 2, 3].map((n) => log.append(draft(n))));
      expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => a - b));
      expect(new Set(entries.map((e) => e.id)).size).toBe(3);
      expect(log.pending().map((e) => e.clientMessageId)).toEqual(['m-1', 'm-2', 'm-3']);
      expect(log.pending()[0]).toMatchObject(draft(1));
      await log.close();
    });

    it('completed entries leave pending; completing an unknown id changes nothing', async () => {
      const log = await subject().open();
      const [a, b] = await Promise.all([log.append(draft(1)), log.append(draft(2))]);
      await log.complete(a!.id);
      await log.complete(9_999_999);
      expect(log.pending().map((e) => e.id)).toEqual([b!.id]);
      await log.close();
    });

    it('a restart finds exactly the entries not completed, with their content', async () => {
      const log = await subject().open();
      const a = await log.append(draft(1, 'grp:0a'));
      const b = await log.append({ ...draft(2, 'grp:0a'), media: { objectKey: 'media/x', contentType: 'image/png', sizeBytes: 3 } });
      const c = await log.append(draft(3, 'dm:alice:carol'));
      await log.complete(b.id);
      const reopened = await subject().reopen(log);
      expect(reopened.pending()).toEqual([a, c]);
      // New entries after a restart sort after the recovered ones.
      const d = await reopened.append(draft(4));
      expect(d.id).toBeGreaterThan(c.id);
      await reopened.complete(a.id);
      await reopened.complete(c.id);
      await reopened.complete(d.id);
      const drained = await subject().reopen(reopened);
      expect(drained.pending()).toEqual([]);
      await drained.close();
    });

    it('empties completely and keeps working after it has been drained', async () => {
      const log = await subject().open();
      const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(draft(i))));
      await Promise.all(entries.map((e) => log.complete(e.id)));
      expect(log.pending()).toEqual([]);
      const next = await log.append(draft(100));
      expect(log.pending()).toEqual([next]);
      await log.close();
    });
  });
}
