import { describe, expect, it } from 'vitest';
import type { PushNotification, PushResult, PushSender } from '../push-sender.js';
import { uniqueDevice, uniqueDirectId, uniqueGroupId, useSubject, type Disposable } from './support.js';

export interface PushSenderSubject extends Disposable {
  sender: PushSender;
  /** A token the push service accepts. */
  token: string;
  /** A token the push service reports as dead (app uninstalled); omit when it cannot make one. */
  unregisteredToken?: string;
  /** What reached the push service, when the implementation can tell (the recording sender, a fake FCM). */
  received?: () => Promise<PushNotification[]>;
}

/**
 * The PushSender contract, kept minimal (real services get their own fake-based tests): send
 * answers one of the PushResult outcomes and never throws for a well-formed notification.
 */
export function pushSenderContract(name: string, make: () => Promise<PushSenderSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);

    function notification(token: string, fields: Partial<PushNotification> = {}): PushNotification {
      const conversationId = uniqueDirectId();
      return { device: uniqueDevice(), token, collapseKey: conversationId, messageCount: 1, conversationIds: [conversationId], ...fields };
    }

    function expectWellFormed(result: PushResult): void {
      switch (result.outcome) {
        case 'sent':
        case 'unregistered':
          break;
        case 'retry':
          if (result.retryAfterMs !== undefined) expect(result.retryAfterMs).toBeGreaterThanOrEqual(0);
          break;
        case 'failed':
          expect(result.reason).toBeTypeOf('string');
          break;
        default:
          expect.fail(`unknown push outcome ${JSON.stringify(result)}`);
      }
    }

    it('answers a PushResult for a well-formed notification', async () => {
      const result = await subject().sender.send(notification(subject().token));
      expectWellFormed(result);
    });

    it('answers a PushResult for a collapsed burst over several conversations', async () => {
      const result = await subject().sender.send(
        notification(subject().token, { messageCount: 17, conversationIds: [uniqueGroupId(), uniqueDirectId(), uniqueGroupId()] }),
      );
      expectWellFormed(result);
    });

    it('a delivered notification reaches the push service', async ({ skip }) => {
      const received = subject().received;
      if (!received) return skip('the implementation cannot observe what was delivered');
      const sent = notification(subject().token, { messageCount: 3 });
      const result = await subject().sender.send(sent);
      expect(result).toEqual({ outcome: 'sent' });
      expect(await received()).toContainEqual(sent);
    });

    it('an unregistered token answers unregistered', async ({ skip }) => {
      const token = subject().unregisteredToken;
      if (token === undefined) return skip('the implementation cannot make an unregistered token');
      const sent = notification(token);
      expect(await subject().sender.send(sent)).toEqual({ outcome: 'unregistered' });
      const received = subject().received;
      if (received) expect(await received()).not.toContainEqual(sent);
    });
  });
}
