import { deviceKey, type ConversationId, type DeviceAddress } from '../core/ids.js';
import type { TimerHandle } from '../ports/clock.js';
import type { CoreDeps } from './deps.js';

interface CollapseWindow {
  device: DeviceAddress;
  token: string;
  /** Messages that arrived after the window's first push and are not yet announced. */
  pendingCount: number;
  conversations: Set<ConversationId>;
  timer: TimerHandle;
}

const PUSH_ATTEMPTS_MAX = 5;
const PUSH_RETRY_BASE_MS = 1_000;

/**
 * Wakes offline devices. A burst of messages makes one push at its start and at most one more
 * per pushCollapseWindowMs (carrying the count), not one per message. Tokens the provider reports
 * unregistered are forgotten; retryable failures back off exponentially.
 */
export class PushNotifier {
  private readonly windows = new Map<string, CollapseWindow>();

  constructor(private readonly deps: Pick<CoreDeps, 'clock' | 'push' | 'directory' | 'metrics' | 'limits'>) {}

  notify(device: DeviceAddress, token: string, conversationId: ConversationId): void {
    const key = deviceKey(device);
    const window = this.windows.get(key);
    if (window) {
      window.pendingCount++;
      window.conversations.add(conversationId);
      return;
    }
    this.send(device, token, 1, [conversationId], 1);
    this.openWindow(key, device, token);
  }

  /** The device connected: its inbox drains now, so a pending collapsed push is moot. */
  deviceOnline(device: DeviceAddress): void {
    const key = deviceKey(device);
    this.windows.get(key)?.timer.cancel();
    this.windows.delete(key);
  }

  get openWindows(): number {
    return this.windows.size;
  }

  private openWindow(key: string, device: DeviceAddress, token: string): void {
    const window: CollapseWindow = {
      device,
      token,
      pendingCount: 0,
      conversations: new Set(),
      timer: this.deps.clock.setTimer(this.deps.limits.pushCollapseWindowMs, () => this.closeWindow(key, window)),
    };
    this.windows.set(key, window);
  }

  private closeWindow(key: string, window: CollapseWindow): void {
    if (this.windows.get(key) !== window) return;
    this.windows.delete(key);
    if (window.pendingCount === 0) return;
    this.send(window.device, window.token, window.pendingCount, [...window.conversations], 1);
    this.openWindow(key, window.device, window.token);
  }

  private send(device: DeviceAddress, token: string, messageCount: number, conversationIds: ConversationId[], attempt: number): void {
    const notification = { device, token, collapseKey: `chat:${deviceKey(device)}`, messageCount, conversationIds };
    this.deps.push.send(notification).then(
      (result) => {
        this.deps.metrics.pushSent(result.outcome);
        if (result.outcome === 'unregistered') {
          void this.deps.directory.setPushToken(device, undefined).catch(() => undefined);
        } else if (result.outcome === 'retry' && attempt < PUSH_ATTEMPTS_MAX) {
          const delayMs = result.retryAfterMs ?? PUSH_RETRY_BASE_MS * 2 ** (attempt - 1);
          this.deps.clock.setTimer(delayMs, () => this.send(device, token, messageCount, conversationIds, attempt + 1));
        }
      },
      () => this.deps.metrics.pushSent('error'),
    );
  }
}
