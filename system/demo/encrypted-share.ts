/**
 * The end-to-end encrypted share of `npm start`'s workload: extra users whose devices run an MLS
 * session (sdk/mls) over the same SDK client and history as everyone else. They chat 1:1 and in
 * one group (with a member added halfway through), so the run exercises group creation, Welcomes,
 * commits in epoch order and application messages; at the end every recipient device must have
 * decrypted every message meant for it, and no device may have refused one.
 */
import { ChatClient, directConversationId, type HistoryRecorder } from '../../sdk/index.js';
import { MlsSession, waitUntilJoined } from '../../sdk/mls/index.js';

export interface EncryptedShareResult {
  users: number;
  devices: number;
  conversations: number;
  sent: number;
  /** Decryptions expected: every message, once per member device other than its sender. */
  expected: number;
  decrypted: number;
  rejected: number;
  errors: string[];
  /** Every expected decryption happened, nothing was refused. */
  passed: boolean;
}

interface EncryptedDevice {
  userId: string;
  deviceId: string;
  client: ChatClient;
  session: MlsSession;
  decrypted: Set<string>;
}

/** Group members beyond the first pairs; the group stays small so the share stays cheap. */
const GROUP_MEMBERS_MAX = 8;

export interface EncryptedShare {
  devices: Array<{ userId: string; deviceId: string }>;
  /** Runs the traffic (`messagesPerUser` each, spread over `durationMs`) and waits for every decryption. */
  run(durationMs: number, messagesPerUser: number, settleTimeoutMs: number): Promise<EncryptedShareResult>;
  close(): void;
}

export async function startEncryptedShare(
  target: { wsUrl: string; httpUrl: string },
  history: HistoryRecorder,
  users: number,
  issueToken: (userId: string, deviceId: string) => Promise<string>,
): Promise<EncryptedShare> {
  const userIds = Array.from({ length: Math.max(2, users) }, (_, i) => `e${String(i).padStart(4, '0')}`);
  const devices: EncryptedDevice[] = [];
  const errors: string[] = [];
  let rejected = 0;
  for (const [i, userId] of userIds.entries()) {
    // Every third encrypted user has a laptop too: the sender's other devices must read its messages.
    for (const deviceId of i % 3 === 0 ? ['phone', 'laptop'] : ['phone']) {
      // Group creation claims and commits are requests: give them room on a busy machine.
      const client = new ChatClient({ urls: [target.wsUrl], token: await issueToken(userId, deviceId), history, deviceId, validateFrames: false, requestTimeoutMs: 30_000 });
      const session = new MlsSession(client, { keyPackagesTarget: 5 });
      const device: EncryptedDevice = { userId, deviceId, client, session, decrypted: new Set() };
      session.on('message', (m) => device.decrypted.add(m.clientMessageId));
      session.on('rejected', (r) => {
        rejected++;
        errors.push(`${userId}/${deviceId} refused ${r.conversationId}#${r.seq}: ${r.code}`);
      });
      session.on('error', (e) => errors.push(`${userId}/${deviceId}: ${e.message}`));
      devices.push(device);
    }
  }
  await Promise.all(devices.map((d) => d.session.start()));

  const phones = devices.filter((d) => d.deviceId === 'phone');
  // Conversations: a ring of 1:1 chats, and one group of the first few users, growing by one later.
  const pairs = userIds.map((u, i) => [u, userIds[(i + 1) % userIds.length]!] as const).filter(([a, b]) => a !== b);
  const groupUsers = userIds.slice(0, Math.min(GROUP_MEMBERS_MAX - 1, userIds.length - 1));
  const latecomer = userIds[groupUsers.length];
  const creator = phones[0]!;
  const group = await creator.session.createGroup('encrypted group', groupUsers.slice(1));
  const members = new Map<string, Set<string>>([[group, new Set(groupUsers)]]);
  for (const [a, b] of pairs) members.set(directConversationId(a, b), new Set([a, b]));
  // Found every 1:1 group now, so the traffic phase pays only for messages.
  await Promise.all(pairs.map(([a]) => phones.find((d) => d.userId === a)!.session.ensureGroup(directConversationId(a, pairs.find(([x]) => x === a)![1]))));
  await waitUntilJoined(
    [...members].map(([conversationId, users]) => [conversationId, devices.filter((d) => users.has(d.userId)).map((d) => d.session)] as const),
    30_000,
  );
  const sentIds: Array<{ conversationId: string; clientMessageId: string; sender: EncryptedDevice; recipients: EncryptedDevice[] }> = [];

  return {
    devices: devices.map(({ userId, deviceId }) => ({ userId, deviceId })),
    async run(durationMs, messagesPerUser, settleTimeoutMs) {
      const total = phones.length * messagesPerUser;
      const gapMs = durationMs / Math.max(1, total);
      const sends: Array<Promise<void>> = [];
      for (let n = 0; n < total; n++) {
        const sender = phones[n % phones.length]!;
        const inGroup = n % 3 === 0 && members.get(group)!.has(sender.userId);
        const partner = pairs.find(([a]) => a === sender.userId)?.[1] ?? pairs.find(([, b]) => b === sender.userId)![0];
        const conversationId = inGroup ? group : directConversationId(sender.userId, partner);
        // Everyone who is a member at send time, on every device but the sending one.
        const recipients = devices.filter((d) => members.get(conversationId)!.has(d.userId) && d !== sender);
        sends.push(
          sender.session.send(conversationId, { text: `encrypted ${n} from ${sender.userId}` }).then(
            (sent) => void sentIds.push({ conversationId, clientMessageId: sent.clientMessageId, sender, recipients }),
            (error: Error) => void errors.push(`${sender.userId} send: ${error.message}`),
          ),
        );
        if (n === Math.floor(total / 2) && latecomer) {
          // A member joins mid-run: one commit adds all its devices, its Welcome rides along. Sends
          // pause until every member applied it: a message encrypted in the epoch before the add is,
          // by design, not readable by the newcomer, and the count below expects it to be.
          await Promise.all(sends);
          await creator.session.addMembers(group, [latecomer]).catch((error: Error) => errors.push(`add ${latecomer}: ${error.message}`));
          members.get(group)!.add(latecomer);
          const epoch = creator.session.epoch(group);
          const inGroup = devices.filter((d) => members.get(group)!.has(d.userId));
          const deadline = performance.now() + settleTimeoutMs;
          while (inGroup.some((d) => d.session.epoch(group) !== epoch) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      await Promise.all(sends);
      const expected = sentIds.reduce((n, s) => n + s.recipients.length, 0);
      const decryptedCount = () => sentIds.reduce((n, s) => n + s.recipients.filter((r) => r.decrypted.has(s.clientMessageId)).length, 0);
      const deadline = performance.now() + settleTimeoutMs;
      while (decryptedCount() < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const decrypted = decryptedCount();
      return {
        users: userIds.length,
        devices: devices.length,
        conversations: members.size,
        sent: sentIds.length,
        expected,
        decrypted,
        rejected,
        errors: errors.slice(0, 20),
        passed: decrypted === expected && rejected === 0 && errors.length === 0 && sentIds.length === total,
      };
    },
    close() {
      for (const d of devices) d.client.close();
    },
  };
}
