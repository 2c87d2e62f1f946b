import type { HistoryEvent } from '../../checker/history.js';
import { ManualClock } from '../../system/adapters/virtual/manual-clock.js';
import { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import type { ConversationEvent } from '../../system/core/events.js';
import type { Random } from '../../system/ports/random.js';
import type { ClientFrameType, ServerFrame } from '../../system/protocol/frames.js';
import { ClientCore } from '../core/client-core.js';
import { clientCoreConfig } from '../core/config.js';
import type { PendingSend } from '../core/outbox.js';
import type { ClientCoreConfig, ClientCoreHost, SavedClientState } from '../core/ports.js';
import type { ChatClientError } from '../errors.js';
import { HistoryRecorder } from '../history-recorder.js';
import { welcomeFrame } from './harness.js';
import type { SentFrame } from './fake-transport.js';

/**
 * A client core on a scripted host: the test plays both the network and the app. Frames the core
 * writes are parsed into `frames` (with the clock's time); what it reports is listed in `reports`.
 */
export class CoreHost implements ClientCoreHost {
  readonly clock = new ManualClock(0);
  readonly history = new HistoryRecorder();
  readonly frames: Array<SentFrame & { atMs: number }> = [];
  /** Connection attempts the core asked for, with their time. */
  readonly opened: Array<{ connectionId: number; atMs: number }> = [];
  readonly closes: Array<{ atMs: number; code: number }> = [];
  readonly reports: string[] = [];
  readonly failedSends: Array<{ send: PendingSend; error: ChatClientError }> = [];
  readonly deliveries: ConversationEvent[] = [];
  random: Random = new SeededRandom(7);

  openConnection(connectionId: number): void {
    this.opened.push({ connectionId, atMs: this.clock.nowMs() });
  }
  closeConnection(code: number): void {
    this.closes.push({ atMs: this.clock.nowMs(), code });
  }
  writeFrame(_type: ClientFrameType, text: string): void {
    this.frames.push({ ...(JSON.parse(text) as SentFrame), atMs: this.clock.nowMs() });
  }
  watchedUsers(): undefined {
    return undefined;
  }
  connected(): void {
    this.reports.push('connected');
  }
  disconnected(info: { willReconnect: boolean }): void {
    this.reports.push(`disconnected ${info.willReconnect}`);
  }
  delivered(event: ConversationEvent): void {
    this.deliveries.push(event);
  }
  sendAccepted(send: PendingSend): void {
    this.reports.push(`accepted ${send.clientMessageId}`);
  }
  sendQueued(send: PendingSend): void {
    this.reports.push(`queued ${send.clientMessageId}`);
  }
  sendRetrying(send: PendingSend, _error: ChatClientError, delayMs: number): void {
    this.reports.push(`retrying ${send.clientMessageId} in ${delayMs}`);
  }
  sendFailed(send: PendingSend, error: ChatClientError): void {
    this.failedSends.push({ send, error });
  }
  receipt(): void {}
  presence(): void {}
  error(error: ChatClientError): void {
    this.reports.push(`error ${error.code}`);
  }
  stopped(): void {}

  framesOf(type: string): Array<SentFrame & { atMs: number }> {
    return this.frames.filter((f) => f.type === type);
  }

  recorded(type: HistoryEvent['type']): HistoryEvent[] {
    return this.history.events.filter((e) => e.type === type);
  }
}

/** A core welcomed on its first connection (as alice/phone), with the clock at 0. */
export function welcomedCore(
  settings: Partial<ClientCoreConfig> = {},
  welcome: Partial<ReturnType<typeof welcomeFrame>> & Record<string, unknown> = {},
  saved?: Partial<SavedClientState>,
) {
  const host = new CoreHost();
  const core = new ClientCore(host, clientCoreConfig({ history: host.history, ...settings }), saved);
  core.connect();
  core.connectionOpened(core.connectionId, 'token');
  const push = (frame: unknown) => core.receiveFrame(core.connectionId, frame as ServerFrame);
  push({ ...welcomeFrame(host.clock), ...welcome });
  return { host, core, push };
}
