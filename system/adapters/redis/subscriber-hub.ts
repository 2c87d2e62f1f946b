import type { Logger } from '../../ports/logger.js';
import type { Redis } from './redis-client.js';

export type MessageHandler = (message: string, channel: string) => void;

export interface Subscription {
  /** Settles once the server has confirmed the SUBSCRIBE (rejects if it failed). */
  readonly ready: Promise<void>;
  /** Stops this handler; the channel is unsubscribed when its last handler goes. Idempotent. */
  release(): void;
}

interface Channel {
  handlers: Set<{ handle: MessageHandler }>;
  ready: Promise<void>;
}

/**
 * Shares one subscriber connection between the router (its node channel) and the presence store
 * (per-user channels, key expiry events): reference-counts channels, dispatches messages, and
 * tells listeners when the connection is back after a loss (ioredis has re-subscribed by then;
 * messages published meanwhile are lost, so listeners re-read what they care about).
 */
export class SubscriberHub {
  private readonly channels = new Map<string, Channel>();
  private readonly reconnectListeners = new Set<() => void>();
  private readyOnce = false;
  private closed = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const entry = this.channels.get(channel);
      if (!entry) return;
      for (const handler of [...entry.handlers]) {
        try {
          handler.handle(message, channel);
        } catch (error) {
          this.logger.error('redis message handler failed', { channel, error: (error as Error).message });
        }
      }
    });
    subscriber.on('ready', () => {
      if (!this.readyOnce) {
        this.readyOnce = true;
        return;
      }
      // The re-SUBSCRIBEs were written before 'ready'; a PING answered after them marks the
      // point from which messages flow again.
      subscriber.ping().then(
        () => {
          if (this.closed) return;
          for (const listener of [...this.reconnectListeners]) listener();
        },
        () => undefined,
      );
    });
  }

  subscribe(channel: string, handle: MessageHandler): Subscription {
    let entry = this.channels.get(channel);
    if (!entry) {
      const ready = this.subscriber.subscribe(channel).then(() => undefined);
      ready.catch((error: unknown) => {
        if (!this.closed) this.logger.warn('redis subscribe failed', { channel, error: (error as Error).message });
      });
      entry = { handlers: new Set(), ready };
      this.channels.set(channel, entry);
    }
    const current = entry;
    const handler = { handle };
    current.handlers.add(handler);
    let released = false;
    return {
      ready: current.ready,
      release: () => {
        if (released) return;
        released = true;
        current.handlers.delete(handler);
        if (current.handlers.size === 0 && this.channels.get(channel) === current) {
          this.channels.delete(channel);
          if (!this.closed) this.subscriber.unsubscribe(channel).catch(() => undefined);
        }
      },
    };
  }

  /** Calls `listener` each time the subscriber connection is back after a loss. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  get channelCount(): number {
    return this.channels.size;
  }

  close(): void {
    this.closed = true;
    this.channels.clear();
    this.reconnectListeners.clear();
  }
}
