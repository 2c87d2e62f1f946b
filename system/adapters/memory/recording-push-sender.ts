import type { PushNotification, PushResult, PushSender } from '../../ports/push-sender.js';

/**
 * The embedded world's push sender: there is no phone to wake, so it records what would have
 * been sent (the demo reports it; tests assert on it). Tokens listed in `unregisteredTokens`
 * answer as FCM does for an uninstalled app.
 */
export class RecordingPushSender implements PushSender {
  readonly sent: PushNotification[] = [];
  readonly unregisteredTokens = new Set<string>();
  private readonly sentCap: number;

  constructor(options: { sentCap?: number } = {}) {
    this.sentCap = options.sentCap ?? 100_000;
  }

  async send(notification: PushNotification): Promise<PushResult> {
    if (this.unregisteredTokens.has(notification.token)) return { outcome: 'unregistered' };
    // Bounded so a long-running embedded server does not grow without limit.
    if (this.sent.length >= this.sentCap) this.sent.shift();
    this.sent.push(notification);
    return { outcome: 'sent' };
  }
}
