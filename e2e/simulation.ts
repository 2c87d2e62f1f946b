/**
 * A deterministic simulation for the interleaving properties: an embedded world on a ManualClock
 * and SDK ChatClients for a small cast of devices, connected to the world's gateway node through
 * MemoryTransport (no sockets), all recording one history in the checker's format. Random runs are
 * sequences of Steps (fast-check arbitraries below) applied with `runSteps`; `heal` brings every
 * device back and lets the run settle.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { ChatClient, HistoryRecorder, directConversationId } from '../sdk/index.js';
import { SeededRandom } from '../system/adapters/virtual/seeded-random.js';
import type { ConversationId } from '../system/core/ids.js';
import { createTestWorld, settle, type TestWorld } from '../system/testing/in-process-client.js';
import { memoryTransportFactory, type MemoryTransport } from './memory-transport.js';

// ---------- the cast ----------

export const USERS = ['u0', 'u1', 'u2', 'u3'] as const;
/** u0 creates the group and stays its admin; u2/b acknowledges by hand (inbox redelivery). */
export const DEVICES = [
  { userId: 'u0', deviceId: 'a', manualAck: false },
  { userId: 'u0', deviceId: 'b', manualAck: false },
  { userId: 'u1', deviceId: 'a', manualAck: false },
  { userId: 'u2', deviceId: 'a', manualAck: false },
  { userId: 'u2', deviceId: 'b', manualAck: true },
  { userId: 'u3', deviceId: 'a', manualAck: false },
] as const;
const ADMIN = 'u0';
const INITIAL_MEMBERS = ['u1', 'u2'];

// ---------- actions ----------

export type Action =
  | { kind: 'send'; device: number; to: number }
  | { kind: 'retry'; device: number; pick: number }
  | { kind: 'loseAck'; device: number; to: number }
  | { kind: 'drop'; device: number }
  | { kind: 'offline'; device: number }
  | { kind: 'online'; device: number }
  | { kind: 'read'; device: number; to: number }
  | { kind: 'ack'; device: number }
  | { kind: 'add'; user: number }
  | { kind: 'remove'; user: number }
  | { kind: 'leave'; user: number };

export interface Step {
  action: Action;
  /** Virtual time that passes after the action. */
  dtMs: number;
}

const device = fc.nat({ max: DEVICES.length - 1 });
const user = fc.nat({ max: USERS.length - 1 });
/** A target: another user's 1:1 conversation, or (own user's index) the group. */
const to = fc.nat({ max: USERS.length - 1 });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('send' as const), device, to }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('retry' as const), device, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('loseAck' as const), device, to }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), device }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('offline' as const), device }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('online' as const), device }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), device, to }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ack' as const), device }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), user }) },
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  action: actionArb,
  dtMs: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.nat({ max: 50 }) },
    { weight: 1, arbitrary: fc.nat({ max: 3_000 }) },
  ),
});

export const runArb = fc.record({
  worldSeed: fc.nat({ max: 1_000_000 }),
  steps: fc.array(stepArb, { minLength: 5, maxLength: 45 }),
});

// ---------- the driver ----------

interface SentMessage {
  conversationId: ConversationId;
  clientMessageId: string;
  body: string;
}

interface SimDevice {
  userId: string;
  deviceId: string;
  manualAck: boolean;
  token: string;
  client: ChatClient | undefined;
  factory: ReturnType<typeof memoryTransportFactory>;
  /** Kept while the device is offline, as an app persists them. */
  cursors: Record<string, number>;
  sends: SentMessage[];
  incarnation: number;
}

/** A deterministic world plus SDK clients for every device, all on the world's ManualClock. */
export class Simulation {
  readonly history = new HistoryRecorder();
  readonly devices: SimDevice[];
  group: ConversationId | undefined;
  private messageCounter = 0;

  private constructor(
    readonly world: TestWorld,
    private readonly seed: number,
    /** One token per entry of DEVICES, in order. */
    tokens: string[],
  ) {
    this.devices = DEVICES.map((d, i) => ({
      ...d,
      token: tokens[i]!,
      client: undefined,
      factory: memoryTransportFactory(world.node),
      cursors: {},
      sends: [],
      incarnation: 0,
    }));
  }

  static async start(seed: number): Promise<Simulation> {
    const world = createTestWorld({ seed });
    const tokens = await Promise.all(
      DEVICES.map(async (d) => (await world.core.auth.issueToken({ userId: d.userId, deviceId: d.deviceId })).token),
    );
    const sim = new Simulation(world, seed, tokens);
    for (const d of sim.devices) sim.bringOnline(d);
    await sim.world.clock.advance(1);
    await settle();
    const admin = sim.devices[0]!.client!;
    expect(admin.state).toBe('connected');
    sim.group = (await admin.createGroup('g', INITIAL_MEMBERS)).conversationId;
    await sim.world.clock.advance(1);
    await settle();
    return sim;
  }

  bringOnline(d: SimDevice): void {
    if (d.client) return;
    d.incarnation++;
    const client = new ChatClient({
      urls: ['memory://node-1'],
      token: d.token,
      clock: this.world.clock,
      random: new SeededRandom(this.seed * 31 + this.devices.indexOf(d) * 7 + d.incarnation),
      transportFactory: d.factory,
      history: this.history,
      cursors: d.cursors,
      autoAck: !d.manualAck,
      reconnectMinDelayMs: 20,
      reconnectMaxDelayMs: 200,
      sendTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
    });
    // Errors are part of the game (NOT_A_MEMBER after a removal, requests cut by a drop, …).
    client.on('error', () => undefined);
    d.client = client;
    client.connect().catch(() => undefined);
  }

  takeOffline(d: SimDevice): void {
    if (!d.client) return;
    d.cursors = d.client.getCursors();
    d.client.close();
    d.client = undefined;
  }

  conversationFor(d: SimDevice, target: number): ConversationId {
    const other = USERS[target]!;
    return other === d.userId ? this.group! : directConversationId(d.userId, other);
  }

  send(d: SimDevice, conversationId: ConversationId, clientMessageId?: string): void {
    if (!d.client) return;
    const message = clientMessageId
      ? d.sends.find((s) => s.clientMessageId === clientMessageId)!
      : { conversationId, clientMessageId: `${d.userId}.${d.deviceId}.m${++this.messageCounter}`, body: `message ${this.messageCounter}` };
    if (!clientMessageId) d.sends.push(message);
    d.client.send(message.conversationId, message.body, { clientMessageId: message.clientMessageId }).catch(() => undefined);
  }

  ackAll(d: SimDevice): void {
    if (!d.client || d.client.state !== 'connected') return;
    for (const [conversationId, seq] of Object.entries(d.client.getCursors())) d.client.ack(conversationId, seq);
  }

  connectedDeviceOf(userId: string): SimDevice | undefined {
    return this.devices.find((d) => d.userId === userId && d.client?.state === 'connected');
  }

  async apply(action: Action): Promise<void> {
    switch (action.kind) {
      case 'send': {
        const d = this.devices[action.device]!;
        this.send(d, this.conversationFor(d, action.to));
        return;
      }
      case 'retry': {
        const d = this.devices[action.device]!;
        if (d.sends.length === 0) return;
        const earlier = d.sends[action.pick % d.sends.length]!;
        this.send(d, earlier.conversationId, earlier.clientMessageId);
        return;
      }
      case 'loseAck': {
        // The server stores the message, its `sent` is lost, then the connection dies.
        const d = this.devices[action.device]!;
        const transport = d.factory.current();
        if (!d.client || d.client.state !== 'connected' || !transport?.isOpen) return;
        this.send(d, this.conversationFor(d, action.to));
        transport.blackhole();
        await settle(5);
        transport.kill();
        return;
      }
      case 'drop':
        this.liveTransport(this.devices[action.device]!)?.kill();
        return;
      case 'offline':
        this.takeOffline(this.devices[action.device]!);
        return;
      case 'online':
        this.bringOnline(this.devices[action.device]!);
        return;
      case 'read': {
        const d = this.devices[action.device]!;
        const conversationId = this.conversationFor(d, action.to);
        const seq = d.client?.getCursor(conversationId);
        if (d.client && seq !== undefined && seq > 0) d.client.markRead(conversationId, seq);
        return;
      }
      case 'ack':
        this.ackAll(this.devices[action.device]!);
        return;
      case 'add': {
        const admin = this.connectedDeviceOf(ADMIN);
        const target = USERS[action.user]!;
        if (admin && target !== ADMIN) admin.client!.addMembers(this.group!, [target]).catch(() => undefined);
        return;
      }
      case 'remove': {
        const admin = this.connectedDeviceOf(ADMIN);
        const target = USERS[action.user]!;
        if (admin && target !== ADMIN) admin.client!.removeMember(this.group!, target).catch(() => undefined);
        return;
      }
      case 'leave': {
        const target = USERS[action.user]!;
        const member = target === ADMIN ? undefined : this.connectedDeviceOf(target);
        member?.client!.leaveGroup(this.group!).catch(() => undefined);
        return;
      }
    }
  }

  private liveTransport(d: SimDevice): MemoryTransport | undefined {
    const transport = d.factory.current();
    return d.client && transport?.isOpen ? transport : undefined;
  }

  /**
   * Everyone back online; time passes until nothing is pending anywhere. With `emptyInboxes`,
   * quiet also means every inbox is empty.
   */
  async heal(maxRounds = 400, options: { emptyInboxes?: boolean } = {}): Promise<boolean> {
    for (const d of this.devices) this.bringOnline(d);
    for (let round = 0; round < maxRounds; round++) {
      await this.world.clock.advance(50);
      await settle(3);
      for (const d of this.devices) if (d.manualAck) this.ackAll(d);
      await settle(2);
      if (await this.isQuiet(options.emptyInboxes)) return true;
    }
    return false;
  }

  /**
   * Connected, nothing unacknowledged to send, and nothing in any inbox that the device has not
   * acknowledged. (An entry the device already acknowledged can linger: the re-fan-out of a
   * duplicate send may re-queue an event while the device acks it; the device gets it again on its
   * next connection and acks it again. Durability-wise it is caught up.)
   */
  async isQuiet(emptyInboxes = false): Promise<boolean> {
    const { inbox, receipts } = this.world.stores;
    for (const d of this.devices) {
      if (d.client?.state !== 'connected' || d.client.pendingSendCount > 0) return false;
      for (const event of await inbox.list({ userId: d.userId, deviceId: d.deviceId }, 1_000)) {
        if (emptyInboxes) return false;
        const marks = await receipts.list(event.conversationId);
        const delivered = marks.find((m) => m.userId === d.userId && m.deviceId === d.deviceId)?.deliveredSeq ?? 0;
        if (delivered < event.seq) return false;
      }
    }
    return true;
  }

  /** Every connection drops at once (the devices reconnect by themselves). */
  dropAll(): void {
    for (const d of this.devices) if (d.client) this.liveTransport(d)?.kill();
  }

  quiesce(): void {
    this.history.record({
      type: 'quiesce',
      atMs: this.world.clock.nowMs(),
      devices: this.devices.map(({ userId, deviceId }) => ({ userId, deviceId })),
    });
  }

  close(): void {
    for (const d of this.devices) d.client?.close();
  }
}

export async function runSteps(sim: Simulation, steps: Step[]): Promise<void> {
  for (const step of steps) {
    await sim.apply(step.action);
    await sim.world.clock.advance(step.dtMs);
    await settle(2);
  }
}
