import type { ConversationId, DeviceAddress } from '../core/ids.js';

export interface PushNotification {
  device: DeviceAddress;
  token: string;
  /** Notifications with one collapse key replace each other on the device. */
  collapseKey: string;
  /** How many messages this notification stands for (a collapsed burst counts them all). */
  messageCount: number;
  conversationIds: ConversationId[];
}

export type PushResult =
  | { outcome: 'sent' }
  /** The token is dead (app uninstalled); forget it. */
  | { outcome: 'unregistered' }
  /** Worth retrying later (quota, 5xx). */
  | { outcome: 'retry'; retryAfterMs?: number }
  | { outcome: 'failed'; reason: string };

/** One-method push interface; FCM and APNs adapters implement it. */
export interface PushSender {
  send(notification: PushNotification): Promise<PushResult>;
}
