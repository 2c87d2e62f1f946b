import {
  ChatClient,
  wsTransportFactory,
  type ConversationEvent,
  type HistorySink,
  type ReceiptInfo,
  type TransportFactory,
  type Via,
} from '../sdk/index.js';
import type { PlannedUser } from './plan.js';
import type { TokenProvider } from './types.js';

/** One virtual device: a real WebSocket client while online, just its cursors while offline. */
export interface VirtualDevice {
  user: PlannedUser;
  deviceId: string;
  /** Position in the fleet; spreads devices over gateways and source addresses. */
  ordinal: number;
  client: ChatClient | undefined;
  /** Cursors kept while offline, so the device resumes where it stopped. */
  cursors: Record<string, number>;
  /** Index in the fleet's online list, -1 while not connected. */
  onlineSlot: number;
  /** Own acked sends awaiting a delivered receipt, per conversation: for receipt latency. */
  awaitingReceipt: Map<string, Array<{ seq: number; scheduledAtMs: number }>>;
  /** Conversations this device has sent to (see quiescence.ts). */
  sentTo: Set<string>;
}

export interface FleetHandlers {
  event(device: VirtualDevice, event: ConversationEvent, via: Via): void;
  receipt(device: VirtualDevice, receipt: ReceiptInfo): void;
  connections(open: number): void;
  error(code: string): void;
  /** The server refused a send for now (OVERLOADED, RATE_LIMITED, …); the client re-sends it. */
  refused(code: string): void;
}

export interface FleetOptions {
  targets: readonly string[];
  tokenFor: TokenProvider;
  history: HistorySink;
  /** Connect from these local addresses (round robin per device); default: the OS picks. */
  sourceAddresses?: readonly string[];
  validateFrames: boolean;
  /** Watch the presence of the user's contacts after every connect. */
  presence: boolean;
  /** Register a push token after every connect (as an app does at start). */
  pushTokens?: boolean;
  handlers: FleetHandlers;
  /** Called with every new client after the fleet's own listeners, before it connects (MLS sessions attach here). */
  onClient?: (device: VirtualDevice, client: ChatClient) => void;
}

/**
 * The virtual devices of this driver process and their connections. Devices are spread over the
 * gateway URLs (device i starts on targets[i % n] and fails over to the next) and over the
 * source addresses. A device going offline closes its client and keeps its cursors; going online
 * builds a new client from them, as an app restarting would.
 */
export class DeviceFleet {
  readonly devices: VirtualDevice[] = [];
  /** Devices with a welcomed connection, for O(1) random picks of a sender. */
  readonly online: VirtualDevice[] = [];
  private readonly transports: TransportFactory[];

  constructor(
    users: readonly PlannedUser[],
    private readonly options: FleetOptions,
  ) {
    for (const user of users) {
      for (const deviceId of user.deviceIds) {
        this.devices.push({
          user,
          deviceId,
          ordinal: this.devices.length,
          client: undefined,
          cursors: {},
          onlineSlot: -1,
          awaitingReceipt: new Map(),
          sentTo: new Set(),
        });
      }
    }
    const addresses = options.sourceAddresses ?? [];
    this.transports =
      addresses.length === 0 ? [wsTransportFactory()] : addresses.map((localAddress) => wsTransportFactory({ localAddress }));
  }

  /**
   * Opens the device's connection; resolves once welcomed. Rejects when the client gives up, or
   * after `timeoutMs` (the client is then closed: the device stays offline).
   */
  async connect(device: VirtualDevice, timeoutMs?: number): Promise<void> {
    if (device.client) return;
    const targets = this.options.targets;
    const first = device.ordinal % targets.length;
    const client = new ChatClient({
      urls: [...targets.slice(first), ...targets.slice(0, first)],
      token: () => this.options.tokenFor(device.user.userId, device.deviceId),
      history: this.options.history,
      cursors: device.cursors,
      deviceId: device.deviceId,
      validateFrames: this.options.validateFrames,
      transportFactory: this.transports[device.ordinal % this.transports.length],
    });
    device.client = client;
    client.on('event', (event, via) => this.options.handlers.event(device, event, via));
    client.on('receipt', (receipt) => this.options.handlers.receipt(device, receipt));
    client.on('connected', () => this.markOnline(device));
    client.on('disconnected', () => this.markOffline(device));
    client.on('error', (error) => this.options.handlers.error(`client:${error.code}`));
    client.on('retrying', (info) => this.options.handlers.refused(info.code));
    this.options.onClient?.(device, client);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const welcomed = client.connect();
      if (timeoutMs === undefined) await welcomed;
      else {
        await Promise.race([
          welcomed,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      }
    } catch (error) {
      client.close();
      if (device.client === client) device.client = undefined;
      this.markOffline(device);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.options.presence && device.user.contacts.length > 0) {
      client.subscribePresence(device.user.contacts).catch(() => undefined);
    }
    if (this.options.pushTokens) client.setPushToken(`push-${device.user.userId}-${device.deviceId}`).catch(() => undefined);
  }

  disconnect(device: VirtualDevice): void {
    const client = device.client;
    if (!client) return;
    device.client = undefined;
    this.markOffline(device);
    client.close();
    // Read after the close: closing can still hand the app events it held (a group the device was
    // just added to, waiting for its first sync), and the next client must not deliver them again.
    device.cursors = client.getCursors();
  }

  /** Connects many devices with at most `concurrency` attempts in flight; returns how many failed. */
  async connectAll(
    devices: readonly VirtualDevice[],
    concurrency: number,
    timeoutMs: number,
    onFailure: (device: VirtualDevice, error: unknown) => void,
  ): Promise<number> {
    let next = 0;
    let failures = 0;
    const worker = async () => {
      while (next < devices.length) {
        const device = devices[next++]!;
        await this.connect(device, timeoutMs).catch((error: unknown) => {
          failures++;
          onFailure(device, error);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
    return failures;
  }

  closeAll(): void {
    for (const device of this.devices) this.disconnect(device);
  }

  private markOnline(device: VirtualDevice): void {
    if (device.onlineSlot >= 0) return;
    device.onlineSlot = this.online.length;
    this.online.push(device);
    this.options.handlers.connections(this.online.length);
  }

  private markOffline(device: VirtualDevice): void {
    const slot = device.onlineSlot;
    if (slot < 0) return;
    const last = this.online.pop()!;
    if (last !== device) {
      this.online[slot] = last;
      last.onlineSlot = slot;
    }
    device.onlineSlot = -1;
    this.options.handlers.connections(this.online.length);
  }
}
