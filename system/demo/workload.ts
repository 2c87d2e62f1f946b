import { HistoryRecorder, ChatClient, uploadMedia, downloadMedia, directConversationId, type ConversationEvent } from '../../sdk/index.js';
import { SeededRandom } from '../adapters/virtual/seeded-random.js';
import { startEncryptedShare, type EncryptedShareResult } from './encrypted-share.js';

/** Where the workload runs: any server speaking the protocol with the development token endpoint. */
export interface DemoTarget {
  wsUrl: string;
  httpUrl: string;
}

/** The knobs of the built-in workload that `npm start` drives. */
export interface DemoWorkloadOptions {
  users: number;
  seed: number;
  /** Length of the traffic phase. */
  durationMs: number;
  /** Chat messages per second over all senders (open model: sent on schedule). */
  ratePerSecond: number;
  /** Share of devices that go offline (and come back) during the traffic phase. */
  churnFraction: number;
  /** Share of messages that go to groups rather than 1:1 conversations. */
  groupShare: number;
  /** Longest wait for every queued message to be delivered after the traffic stops. */
  quiesceTimeoutMs: number;
  /** Extra users, as a share of `users`, whose conversations are end-to-end encrypted with MLS (0 = none). */
  encryptedShare: number;
  /** Progress lines go here (stderr by default; the summary goes to stdout). */
  log: (line: string) => void;
}

export const defaultDemoOptions: Omit<DemoWorkloadOptions, 'log'> = {
  users: 200,
  seed: 1,
  durationMs: 6_000,
  ratePerSecond: 100,
  churnFraction: 0.15,
  groupShare: 0.3,
  quiesceTimeoutMs: 20_000,
  encryptedShare: 0.1,
};

interface DemoDevice {
  userId: string;
  deviceId: string;
  client: ChatClient | undefined;
  /** Cursors kept while the device is offline, so it resumes where it stopped. */
  cursors: Record<string, number>;
}

export interface DemoResult {
  history: HistoryRecorder;
  users: number;
  devices: number;
  groups: Array<{ conversationId: string; members: number }>;
  media: { uploaded: number; downloaded: number; bytes: number; mismatches: number };
  churn: { disconnects: number; reconnects: number };
  quiesced: boolean;
  sendFailures: Record<string, number>;
  /** The MLS-encrypted share, when it ran. */
  e2ee?: EncryptedShareResult;
}

const MEDIA_BYTES = 20 * 1024;
/** Encrypted messages per encrypted user (their phones) over the traffic phase. */
const ENCRYPTED_MESSAGES_PER_USER = 5;
/** One large group per run; the 256-member limit itself is exercised by the tests and benchmarks. */
const BIG_GROUP_MEMBERS = 48;
const MEDIA_UPLOADS = 5;
const TICK_MS = 10;
const CONNECT_BATCH = 50;

/**
 * The built-in workload: a few hundred users on real WebSockets through the reference SDK, 1:1
 * and group chats, devices dropping off and coming back, read receipts, presence subscriptions,
 * membership changes during traffic and media uploads. Every client records into one history.
 */
export async function runDemoWorkload(target: DemoTarget, options: DemoWorkloadOptions): Promise<DemoResult> {
  const random = new SeededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random.nextFloat() * items.length)]!;
  const history = new HistoryRecorder();
  const sendFailures: Record<string, number> = {};
  const media = { uploaded: 0, downloaded: 0, bytes: 0, mismatches: 0 };
  const uploadedBytes = new Map<string, number>();

  const userIds = Array.from({ length: options.users }, (_, i) => `u${String(i).padStart(4, '0')}`);
  const devices: DemoDevice[] = [];
  for (const [i, userId] of userIds.entries()) {
    devices.push({ userId, deviceId: 'phone', client: undefined, cursors: {} });
    // Every fifth user also has a laptop: multi-device sync is part of every run.
    if (i % 5 === 0) devices.push({ userId, deviceId: 'laptop', client: undefined, cursors: {} });
  }

  const onEvent = (device: DemoDevice, event: ConversationEvent) => {
    if (event.kind !== 'message') return;
    const client = device.client;
    if (!client) return;
    if (random.nextFloat() < 0.3) client.markRead(event.conversationId, event.seq);
    if (event.media && device.deviceId === 'phone') {
      const expected = uploadedBytes.get(event.media.objectKey);
      void downloadMedia(client, event.conversationId, event.media.objectKey).then(
        (bytes) => {
          media.downloaded++;
          if (expected !== undefined && bytes.byteLength !== expected) media.mismatches++;
        },
        () => undefined,
      );
    }
  };

  const connect = async (device: DemoDevice): Promise<void> => {
    const token = await issueDevToken(target.httpUrl, device.userId, device.deviceId);
    const client = new ChatClient({
      urls: [target.wsUrl],
      token,
      history,
      cursors: device.cursors,
      deviceId: device.deviceId,
      validateFrames: false,
    });
    client.on('event', (event) => onEvent(device, event));
    device.client = client;
    await client.connect();
  };

  const disconnect = (device: DemoDevice): void => {
    const client = device.client;
    if (!client) return;
    device.cursors = client.getCursors();
    device.client = undefined;
    client.close();
  };

  // --- set up: connect everyone, contacts, presence, push tokens, groups
  options.log(`connecting ${devices.length} devices of ${userIds.length} users`);
  for (let i = 0; i < devices.length; i += CONNECT_BATCH) await Promise.all(devices.slice(i, i + CONNECT_BATCH).map(connect));
  const phones = devices.filter((d) => d.deviceId === 'phone');
  const partners = new Map<string, string[]>();
  for (const [i, userId] of userIds.entries()) {
    const next = userIds[(i + 1) % userIds.length]!;
    const other = pick(userIds.filter((u) => u !== userId));
    partners.set(userId, [...new Set([next, other])]);
  }
  await Promise.all(
    phones.map(async (d) => {
      await d.client!.subscribePresence(partners.get(d.userId)!);
      await d.client!.setPushToken(`push-${d.userId}`);
    }),
  );
  const groups: Array<{ conversationId: string; members: string[]; admin: string }> = [];
  const groupCount = Math.max(3, Math.floor(options.users / 25));
  for (let g = 0; g < groupCount; g++) {
    const size = g === 0 ? Math.min(options.users, BIG_GROUP_MEMBERS) : 3 + Math.floor(random.nextFloat() * 28);
    const members = new Set<string>();
    while (members.size < Math.min(size, userIds.length)) members.add(pick(userIds));
    const [admin, ...rest] = [...members];
    const creator = phones.find((d) => d.userId === admin)!;
    const created = await creator.client!.createGroup(`group ${g}`, rest);
    groups.push({ conversationId: created.conversationId, members: [...members], admin: admin! });
  }
  options.log(`${groups.length} groups (largest ${Math.max(...groups.map((g) => g.members.length))} members)`);

  const encryptedUsers = options.encryptedShare > 0 ? Math.max(2, Math.ceil(options.users * options.encryptedShare)) : 0;
  const encrypted = encryptedUsers > 0 ? await startEncryptedShare(target, history, encryptedUsers, (u, d) => issueDevToken(target.httpUrl, u, d)) : undefined;
  if (encrypted) options.log(`${encryptedUsers} more users (${encrypted.devices.length} devices) chat end-to-end encrypted (MLS)`);

  // --- traffic: open-model sends, churn, membership changes and media along the way
  const encryptedRun = encrypted?.run(options.durationMs, ENCRYPTED_MESSAGES_PER_USER, options.quiesceTimeoutMs);
  const pending: Array<Promise<unknown>> = [];
  const churnAt = new Map<number, DemoDevice[]>();
  const churnDevices = devices.filter(() => random.nextFloat() < options.churnFraction);
  for (const device of churnDevices) {
    const atTick = Math.floor(random.nextFloat() * (options.durationMs / TICK_MS) * 0.8);
    churnAt.set(atTick, [...(churnAt.get(atTick) ?? []), device]);
  }
  const churn = { disconnects: 0, reconnects: 0 };
  const reconnecting: Array<Promise<void>> = [];
  const totalMessages = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
  const membershipChangeTick = Math.floor(options.durationMs / TICK_MS / 2);
  let sent = 0;
  const startMs = performance.now();
  for (let tick = 0; sent < totalMessages; tick++) {
    const due = Math.min(totalMessages, Math.floor(((performance.now() - startMs) * options.ratePerSecond) / 1000));
    while (sent < due) {
      const online = devices.filter((d) => d.client);
      const sender = pick(online);
      const inGroup = random.nextFloat() < options.groupShare;
      const mine = inGroup ? groups.filter((g) => g.members.includes(sender.userId)) : [];
      const group = mine.length > 0 ? pick(mine) : undefined;
      const conversationId = group ? group.conversationId : directConversationId(sender.userId, pick(partners.get(sender.userId)!));
      const promise = sender.client!.send(conversationId, `demo message ${sent} from ${sender.userId}/${sender.deviceId}`);
      pending.push(promise.catch((error: { code?: string }) => (sendFailures[error.code ?? 'unknown'] = (sendFailures[error.code ?? 'unknown'] ?? 0) + 1)));
      sent++;
    }
    for (const device of churnAt.get(tick) ?? []) {
      disconnect(device);
      churn.disconnects++;
      const backAfterMs = 500 + random.nextFloat() * 1_500;
      reconnecting.push(
        new Promise<void>((resolve) => setTimeout(resolve, backAfterMs)).then(async () => {
          await connect(device);
          churn.reconnects++;
        }),
      );
    }
    if (tick === membershipChangeTick) pending.push(changeMemberships(groups, devices, userIds, pick));
    if (tick === membershipChangeTick / 2) pending.push(sendMedia(devices, partners, pick, uploadedBytes, media));
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  options.log(`sent ${sent} messages in ${((performance.now() - startMs) / 1000).toFixed(1)} s; waiting for every device to catch up`);

  // --- heal: everyone back online, wait until every queued event is delivered and acked
  await Promise.all(reconnecting);
  await Promise.all(devices.filter((d) => !d.client).map(connect));
  await Promise.all(pending);
  const e2ee = await encryptedRun;
  if (e2ee) options.log(`encrypted: ${e2ee.sent} messages, ${e2ee.decrypted}/${e2ee.expected} decryptions, ${e2ee.rejected} refused${e2ee.errors.length ? `; ${e2ee.errors.join('; ')}` : ''}`);
  const quiesced = await waitForQuiescence(devices, options.quiesceTimeoutMs);
  history.record({
    type: 'quiesce',
    atMs: Date.now(),
    devices: [...devices.map((d) => ({ userId: d.userId, deviceId: d.deviceId })), ...(encrypted?.devices ?? [])],
  });
  for (const device of devices) disconnect(device);
  encrypted?.close();
  return {
    history,
    users: userIds.length + encryptedUsers,
    devices: devices.length + (encrypted?.devices.length ?? 0),
    groups: groups.map((g) => ({ conversationId: g.conversationId, members: g.members.length })),
    media,
    churn,
    quiesced,
    sendFailures,
    ...(e2ee ? { e2ee } : {}),
  };
}

/** An admin adds a newcomer to two groups and removes a member, while messages flow. */
async function changeMemberships(
  groups: Array<{ conversationId: string; members: string[]; admin: string }>,
  devices: DemoDevice[],
  userIds: string[],
  pick: <T>(items: readonly T[]) => T,
): Promise<void> {
  for (const group of groups.slice(1, 3)) {
    const admin = devices.find((d) => d.userId === group.admin && d.client);
    if (!admin) continue;
    const newcomer = pick(userIds.filter((u) => !group.members.includes(u)));
    await admin.client!.addMembers(group.conversationId, [newcomer]).then(() => group.members.push(newcomer), () => undefined);
    const leaving = group.members.find((u) => u !== group.admin);
    if (leaving) {
      await admin.client!.removeMember(group.conversationId, leaving).then(
        () => group.members.splice(group.members.indexOf(leaving), 1),
        () => undefined,
      );
    }
  }
}

async function sendMedia(
  devices: DemoDevice[],
  partners: Map<string, string[]>,
  pick: <T>(items: readonly T[]) => T,
  uploadedBytes: Map<string, number>,
  media: DemoResult['media'],
): Promise<void> {
  for (let i = 0; i < MEDIA_UPLOADS; i++) {
    const sender = pick(devices.filter((d) => d.client && d.deviceId === 'phone'));
    const conversationId = directConversationId(sender.userId, partners.get(sender.userId)![0]!);
    const bytes = new Uint8Array(MEDIA_BYTES).map((_, j) => (i * 31 + j) & 0xff);
    try {
      const ref = await uploadMedia(sender.client!, conversationId, bytes, 'image/jpeg');
      uploadedBytes.set(ref.objectKey, bytes.byteLength);
      media.uploaded++;
      media.bytes += bytes.byteLength;
      await sender.client!.send(conversationId, `photo ${i}`, { media: ref });
    } catch {
      // A device that went offline mid-upload simply does not send its photo.
    }
  }
}

/**
 * Quiescent: no client has an unacknowledged send, and every device finds nothing readable after
 * its cursor in any of its conversations. Asked through the protocol, so it holds for any target.
 */
async function waitForQuiescence(devices: DemoDevice[], timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!devices.some((d) => (d.client?.pendingSendCount ?? 0) > 0)) {
      const behind = await Promise.all(devices.map((d) => isBehind(d.client!)));
      if (!behind.some(Boolean)) return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function isBehind(client: ChatClient): Promise<boolean> {
  try {
    const conversations = await client.conversations();
    for (const { conversationId } of conversations) {
      const page = await client.sync(conversationId, client.getCursor(conversationId) ?? 0, 1);
      if (page.events.length > 0) return true;
    }
    return false;
  } catch {
    return true;
  }
}

async function issueDevToken(httpUrl: string, userId: string, deviceId: string): Promise<string> {
  const response = await fetch(`${httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId }) });
  if (!response.ok) throw new Error(`dev token for ${userId}/${deviceId}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
