import type { DeliverEvent, History, HistoryEvent } from '../history.js';

/**
 * A tiny reference model of the messaging system that emits *valid* histories: 4 users with 2
 * devices each, one group (created by u0, who never leaves) and the 1:1 conversation of u0 and
 * u1. The server assigns seqs; every member device that is linked when an event is appended is
 * owed it, and gets it in order when its queue is flushed (a device's queue is flushed before
 * it sends, so its own ack never overtakes an older delivery). At the end every linked device
 * connects, is flushed, and a quiesce event lists them all. Times strictly increase.
 */

export const USERS = ['u0', 'u1', 'u2', 'u3'] as const;
export const DEVICES_PER_USER = 2;
export const DEVICE_COUNT = USERS.length * DEVICES_PER_USER;
export const GROUP = 'grp:00c0ffee';
export const DM = 'dm:u0:u1';

export type ModelAction =
  | { kind: 'send'; device: number; dm: boolean; retry: boolean }
  | { kind: 'flush'; device: number }
  | { kind: 'add'; user: number }
  | { kind: 'remove'; user: number }
  | { kind: 'leave'; user: number }
  | { kind: 'admin'; user: number }
  | { kind: 'link'; device: number }
  | { kind: 'toggle'; device: number }
  | { kind: 'receipt'; device: number; observer: number; read: boolean }
  | { kind: 'presence'; observer: number; subject: number };

export interface ModelStep {
  action: ModelAction;
  /** Extra time before the step (every event also advances time by 1 ms). */
  dtMs: number;
}

export interface ModelSetup {
  /** Initial group members besides u0 (by user index 1..3). */
  initialMembers: boolean[];
  /** Devices linked at the start (device 0, u0's first, always is). */
  initiallyLinked: boolean[];
}

type Pending = Omit<DeliverEvent, 'atMs' | 'via' | 'userId' | 'deviceId' | 'type'>;

function userOf(device: number): string {
  return USERS[Math.floor(device / DEVICES_PER_USER)]!;
}
function deviceIdOf(device: number): string {
  return `d${device % DEVICES_PER_USER}`;
}

export function runModel(setup: ModelSetup, steps: readonly ModelStep[]): History {
  const events: HistoryEvent[] = [];
  let now = 1_000;
  const tick = (): number => (now += 1);
  const linked = new Array<boolean>(DEVICE_COUNT).fill(false);
  const connected = new Array<boolean>(DEVICE_COUNT).fill(false);
  const queues: Pending[][] = Array.from({ length: DEVICE_COUNT }, () => []);
  const highestSeen = new Map<string, number>(); // device|conversation → highest seq observed
  const seqs = new Map<string, number>([
    [GROUP, 0],
    [DM, 0],
  ]);
  const members = new Set<string>(['u0']);
  let nextMessage = 0;

  const ids = (d: number) => ({ userId: userOf(d), deviceId: deviceIdOf(d) });
  const devicesOf = (userId: string): number[] => Array.from({ length: DEVICE_COUNT }, (_, d) => d).filter((d) => userOf(d) === userId);
  const isMember = (conversationId: string, userId: string): boolean =>
    conversationId === DM ? userId === 'u0' || userId === 'u1' : members.has(userId);
  const nextSeq = (conversationId: string): number => {
    const s = seqs.get(conversationId)! + 1;
    seqs.set(conversationId, s);
    return s;
  };
  const observe = (d: number, conversationId: string, seq: number): void => {
    highestSeen.set(`${d}|${conversationId}`, seq);
  };
  /** Queues an appended event for every linked device of the given users, except one. */
  const fanOut = (event: Pending, userIds: Iterable<string>, except = -1): void => {
    for (const u of userIds) for (const d of devicesOf(u)) if (linked[d] && d !== except) queues[d]!.push(event);
  };
  const flush = (d: number): void => {
    for (const p of queues[d]!) {
      events.push({ type: 'deliver', atMs: tick(), ...ids(d), ...p, via: connected[d] ? 'live' : 'sync' });
      observe(d, p.conversationId, p.seq);
    }
    queues[d] = [];
  };
  const link = (d: number): void => {
    linked[d] = true;
    events.push({ type: 'device', atMs: tick(), ...ids(d) });
    connected[d] = true;
    events.push({ type: 'connect', atMs: tick(), ...ids(d) });
  };
  const membershipChange = (op: NonNullable<DeliverEvent['op']>, userIds: string[], recipients: Iterable<string>): void => {
    const seq = nextSeq(GROUP);
    fanOut({ conversationId: GROUP, seq, kind: 'membership', op, memberUserIds: userIds }, recipients);
  };

  // Setup: links, then the group's creation (seq 1).
  for (let d = 0; d < DEVICE_COUNT; d++) if (d === 0 || setup.initiallyLinked[d]) link(d);
  for (let u = 1; u < USERS.length; u++) if (setup.initialMembers[u]) members.add(USERS[u]!);
  membershipChange('created', [...members], members);

  for (const { action: a, dtMs } of steps) {
    now += dtMs;
    switch (a.kind) {
      case 'send': {
        const d = a.device;
        const userId = userOf(d);
        if (!linked[d]) break;
        const conversationId = a.dm ? DM : GROUP;
        if (a.dm && !isMember(DM, userId)) break;
        flush(d);
        const clientMessageId = `m${nextMessage++}`;
        events.push({ type: 'send', atMs: tick(), ...ids(d), conversationId, clientMessageId, attempt: 1 });
        if (!isMember(conversationId, userId)) break; // rejected: a non-member cannot post (no ack)
        if (a.retry) events.push({ type: 'send', atMs: tick(), ...ids(d), conversationId, clientMessageId, attempt: 2 });
        const seq = nextSeq(conversationId);
        events.push({ type: 'ack', atMs: tick(), ...ids(d), conversationId, clientMessageId, seq });
        if (a.retry) events.push({ type: 'ack', atMs: tick(), ...ids(d), conversationId, clientMessageId, seq });
        observe(d, conversationId, seq);
        const recipients = conversationId === DM ? ['u0', 'u1'] : [...members];
        fanOut(
          { conversationId, seq, kind: 'message', senderUserId: userId, senderDeviceId: deviceIdOf(d), clientMessageId },
          recipients,
          d,
        );
        break;
      }
      case 'flush':
        flush(a.device);
        break;
      case 'add': {
        const u = USERS[a.user]!;
        if (members.has(u)) break;
        members.add(u);
        membershipChange('added', [u], members);
        break;
      }
      case 'remove':
      case 'leave': {
        const u = USERS[a.user]!;
        if (u === 'u0' || !members.has(u)) break;
        membershipChange(a.kind === 'remove' ? 'removed' : 'left', [u], members);
        members.delete(u);
        break;
      }
      case 'admin': {
        const u = USERS[a.user]!;
        if (!members.has(u)) break;
        membershipChange('admin_granted', [u], members);
        break;
      }
      case 'link':
        if (!linked[a.device]) link(a.device);
        break;
      case 'toggle': {
        const d = a.device;
        if (!linked[d]) break;
        connected[d] = !connected[d];
        events.push({ type: connected[d] ? 'connect' : 'disconnect', atMs: tick(), ...ids(d) });
        break;
      }
      case 'receipt': {
        const { device: d, observer: o } = a;
        if (!linked[d] || !linked[o]) break;
        for (const conversationId of [GROUP, DM]) {
          const upToSeq = highestSeen.get(`${d}|${conversationId}`);
          if (upToSeq === undefined) continue;
          events.push({
            type: 'receipt',
            atMs: tick(),
            ...ids(o),
            conversationId,
            state: a.read ? 'read' : 'delivered',
            upToSeq,
            byUserId: userOf(d),
            byDeviceId: deviceIdOf(d),
          });
        }
        break;
      }
      case 'presence': {
        if (!linked[a.observer]) break;
        const subject = USERS[a.subject]!;
        const online = devicesOf(subject).some((d) => connected[d]);
        events.push({ type: 'presence', atMs: tick(), ...ids(a.observer), subjectUserId: subject, online });
        break;
      }
    }
  }

  // Heal: every linked device connects and catches up, then the run is declared quiesced.
  now += 10;
  for (let d = 0; d < DEVICE_COUNT; d++) {
    if (!linked[d]) continue;
    if (!connected[d]) {
      connected[d] = true;
      events.push({ type: 'connect', atMs: tick(), ...ids(d) });
    }
    flush(d);
  }
  events.push({
    type: 'quiesce',
    atMs: tick(),
    devices: Array.from({ length: DEVICE_COUNT }, (_, d) => d)
      .filter((d) => linked[d])
      .map(ids),
  });
  return events;
}
