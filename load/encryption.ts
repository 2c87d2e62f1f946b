import { isChatClientError, type ChatClient, type ConversationEvent, type SendResult, type Via } from '../sdk/index.js';
import { decodeEnvelope, MlsSession, MlsSessionError, waitUntilJoined, type EncryptedMedia } from '../sdk/mls/index.js';
import { directParticipants } from '../system/core/ids.js';
import type { VirtualDevice } from './device-fleet.js';
import type { EncryptionPlan } from './encryption-plan.js';
import { LatencyRecorder, nowEpochMs, type LoadMeasurements } from './measurements.js';
import { scheduledTimeOf } from './traffic.js';
import type { LatencyFiguresMs } from './types.js';

/** KeyPackages each encrypted device keeps in the directory; a device with none left hands out its reusable last-resort one. */
const KEY_PACKAGES_PER_DEVICE = 5;
/** Sessions started and conversations founded at once during setup. */
const SETUP_CONCURRENCY = 8;
/** How long setup waits for every member device to apply its Welcome before traffic starts. */
const JOIN_WAIT_MS = 30_000;
/** Failures described in the summary at most (all are counted). */
const FAILURES_KEPT_MAX = 20;

/** A message an encrypted device received in an encrypted conversation but could not read. */
export interface DecryptFailure {
  device: string;
  conversationId: string;
  seq: number;
  sender: string;
  /** An MlsErrorCode, or NOT_DECRYPTED when the session never produced the message. */
  code: string;
  message: string;
}

/** The summary's `encryption` section. */
export interface EncryptionReport {
  share: number;
  users: number;
  devices: number;
  conversations: { direct: number; groups: number };
  groups_over_device_bound: number;
  founding_failures: number;
  setup_s: number;
  messages_sent: number;
  messages_decrypted: number;
  decrypt_failures: number;
  encrypt_ms: LatencyFiguresMs;
  decrypt_ms: LatencyFiguresMs;
}

interface Attached {
  session: MlsSession;
  client: ChatClient;
  label: string;
}

/**
 * The encrypted share of a load run: an MLS session (sdk/mls) on every device of an encrypted user,
 * set up before the traffic phase (KeyPackages uploaded, every encrypted conversation founded and
 * joined), sending through `session.send` and timing deliveries when a message is decrypted. It
 * also keeps the books the run is judged by: every application message an encrypted device
 * receives in an encrypted conversation must come out of its session decrypted; a refusal, or a
 * message still unread when the run has settled, is a decrypt failure (exit 1).
 */
export class EncryptionLayer {
  private readonly sessions = new Map<VirtualDevice, Attached>();
  /** Group conversation ids that are MLS groups (learned as groups are created). */
  private readonly groupConversations = new Set<string>();
  private readonly groupUsers = new Map<string, readonly string[]>();
  private readonly directConversations: ReadonlySet<string>;
  /** Received application messages waiting for their decryption: device|conversation#seq → how it came. */
  private readonly pending = new Map<string, { via: Via; device: string; conversationId: string; seq: number; sender: string }>();
  readonly encrypt = new LatencyRecorder();
  readonly decrypt = new LatencyRecorder();
  readonly failures: DecryptFailure[] = [];
  failureCount = 0;
  sent = 0;
  decrypted = 0;
  foundingFailures = 0;
  setupS = 0;

  constructor(
    readonly plan: EncryptionPlan,
    private readonly measurements: LoadMeasurements,
    private readonly log: (line: string) => void,
  ) {
    this.directConversations = new Set(plan.direct.map((d) => d.conversationId));
  }

  isEncryptedUser(userId: string): boolean {
    return this.plan.userIds.has(userId);
  }

  isEncryptedConversation(conversationId: string): boolean {
    return this.directConversations.has(conversationId) || this.groupConversations.has(conversationId);
  }

  /** A group was created or learned; it is an MLS group if the plan says so. */
  noteGroup(groupIndex: number, conversationId: string, memberUserIds: readonly string[]): void {
    if (!this.plan.groupIndexes.has(groupIndex)) return;
    this.groupConversations.add(conversationId);
    if (!this.groupUsers.has(conversationId)) this.groupUsers.set(conversationId, memberUserIds);
  }

  /**
   * Binds an MLS session to an encrypted device's first client. Group state lives in the session's
   * memory, so a later client (a device that failed to connect at setup) gets none: it would be a
   * new member nobody added. Encrypted devices are kept out of churn for the same reason.
   */
  attach(device: VirtualDevice, client: ChatClient): void {
    if (!this.isEncryptedUser(device.user.userId) || this.sessions.has(device)) return;
    const label = `${device.user.userId}/${device.deviceId}`;
    const session = new MlsSession(client, {
      keyPackagesTarget: KEY_PACKAGES_PER_DEVICE,
      // Every device starts before any conversation is founded: nothing to ask to join.
      announce: false,
      measureCrypto: (operation, durationMs) => (operation === 'encrypt' ? this.encrypt : this.decrypt).record(durationMs),
    });
    session.on('message', (m) => {
      if (!this.isEncryptedConversation(m.conversationId)) return;
      const key = pendingKey(label, m.conversationId, m.seq);
      const arrival = this.pending.get(key);
      this.pending.delete(key);
      this.decrypted++;
      this.measurements.onDeliver(arrival?.via ?? 'sync', m.text === undefined ? undefined : scheduledTimeOf(m.text), nowEpochMs());
    });
    session.on('rejected', (r) => {
      // Plaintext bodies of mixed conversations reach the session too; only MLS conversations count.
      if (!this.isEncryptedConversation(r.conversationId)) return;
      const key = pendingKey(label, r.conversationId, r.seq);
      const arrival = this.pending.get(key);
      this.pending.delete(key);
      this.measurements.onDeliver(arrival?.via ?? 'sync', undefined, nowEpochMs());
      this.fail({
        device: label,
        conversationId: r.conversationId,
        seq: r.seq,
        sender: `${r.senderUserId}/${r.senderDeviceId}`,
        code: r.code,
        message: r.message,
      });
    });
    session.on('error', (error) => this.measurements.onError(`mls:${error instanceof MlsSessionError ? error.code : 'background'}`));
    this.sessions.set(device, { session, client, label });
  }

  /** Devices with a session. */
  get deviceCount(): number {
    return this.sessions.size;
  }

  /**
   * Setup, after every device connected: KeyPackages uploaded, then the shard's encrypted 1:1
   * conversations founded (encrypted groups are founded as they are created, see `createGroup`).
   */
  async startSessions(): Promise<void> {
    const startedMs = performance.now();
    await runPool([...this.sessions.values()], SETUP_CONCURRENCY, async (a) => {
      if (a.client.state !== 'connected') return;
      await a.session.start().catch((error: unknown) => this.measurements.onError(`mls:start:${codeOf(error)}`));
    });
    this.setupS += (performance.now() - startedMs) / 1000;
  }

  /** Founds the shard's encrypted 1:1 conversations from a device of their first user. */
  async foundDirectConversations(userIdOf: (index: number) => string): Promise<void> {
    const startedMs = performance.now();
    const founders = this.plan.direct.flatMap((d) => {
      const founder = this.sessionOfUser(userIdOf(d.userIndexes[0]));
      return founder ? [{ conversationId: d.conversationId, session: founder }] : [];
    });
    await runPool(founders, SETUP_CONCURRENCY, async ({ conversationId, session }) => {
      await session.ensureGroup(conversationId).catch((error: unknown) => {
        this.foundingFailures++;
        this.measurements.onError(`mls:found:${codeOf(error)}`);
      });
    });
    this.setupS += (performance.now() - startedMs) / 1000;
  }

  /** Creates a group on the server and founds its MLS group with every member device. */
  async createGroup(device: VirtualDevice, name: string, memberIds: string[]): Promise<string> {
    const attached = this.sessions.get(device);
    if (!attached) throw new MlsSessionError('NOT_IN_GROUP', `${device.user.userId}/${device.deviceId} has no MLS session`);
    return attached.session.createGroup(name, memberIds);
  }

  /** Waits until every device of this shard with a session is in each of its encrypted conversations. */
  async waitJoined(): Promise<void> {
    const startedMs = performance.now();
    const byUser = new Map<string, MlsSession[]>();
    for (const [device, a] of this.sessions) {
      if (a.client.state !== 'connected') continue;
      const list = byUser.get(device.user.userId) ?? [];
      list.push(a.session);
      byUser.set(device.user.userId, list);
    }
    const conversations = [...this.directConversations, ...this.groupConversations];
    const missing = await waitUntilJoined(
      conversations.map((c) => [c, (directParticipants(c) ?? this.groupUsers.get(c) ?? []).flatMap((u) => byUser.get(u) ?? [])] as const),
      JOIN_WAIT_MS,
    );
    this.setupS += (performance.now() - startedMs) / 1000;
    if (missing.length > 0) {
      const examples = missing
        .slice(0, 3)
        .map((m) => `${m.session.device ? `${m.session.device.userId}/${m.session.device.deviceId}` : '?'} in ${m.conversationId}`);
      this.log(
        `${missing.length} encrypted device(s) not in their conversation's MLS group after ${JOIN_WAIT_MS / 1000} s, e.g. ${examples.join('; ')}`,
      );
    }
  }

  /** Encrypts and sends (the body, and media already uploaded encrypted); resolves with the ack. */
  send(device: VirtualDevice, conversationId: string, body: string, media?: EncryptedMedia): Promise<SendResult> {
    const attached = this.sessions.get(device);
    if (!attached || attached.client !== device.client) {
      return Promise.reject(
        new MlsSessionError('NOT_IN_GROUP', `${device.user.userId}/${device.deviceId} has no MLS session on its current client`),
      );
    }
    this.sent++;
    return attached.session.send(conversationId, media ? { text: body, media } : { text: body });
  }

  /**
   * Takes over a conversation event of an encrypted device in an encrypted conversation (returns
   * false otherwise: the caller handles it as plaintext). Application messages are counted and
   * timed when their decryption comes out of the session; commits are counted now.
   */
  onEvent(device: VirtualDevice, event: ConversationEvent, via: Via): boolean {
    if (event.kind !== 'message' || !this.isEncryptedConversation(event.conversationId)) return false;
    const attached = this.sessions.get(device);
    if (!attached || attached.client !== device.client) return false;
    const ownDevice = event.senderUserId === device.user.userId && event.senderDeviceId === device.deviceId;
    if (!ownDevice && isApplicationMessage(event.bodyBase64)) {
      const key = pendingKey(attached.label, event.conversationId, event.seq);
      this.pending.set(key, {
        via,
        device: attached.label,
        conversationId: event.conversationId,
        seq: event.seq,
        sender: `${event.senderUserId}/${event.senderDeviceId}`,
      });
    } else {
      this.measurements.onDeliver(via, undefined, nowEpochMs());
    }
    return true;
  }

  /**
   * After the run settled: waits (at most `timeoutMs`) for decryptions still in the sessions'
   * lanes; every message still unread is a decrypt failure.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.pending.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const p of this.pending.values()) {
      this.measurements.onDeliver(p.via, undefined, nowEpochMs());
      this.fail({
        ...p,
        code: 'NOT_DECRYPTED',
        message: `received ${p.via}, but its session never produced the decrypted message (not in the group in that epoch?)`,
      });
    }
    this.pending.clear();
  }

  report(): EncryptionReport {
    return {
      share: this.plan.share,
      users: this.plan.userIds.size,
      devices: this.sessions.size,
      conversations: { direct: this.plan.direct.length, groups: this.groupConversations.size },
      groups_over_device_bound: this.plan.groupsOverDeviceBound,
      founding_failures: this.foundingFailures,
      setup_s: Math.round(this.setupS * 10) / 10,
      messages_sent: this.sent,
      messages_decrypted: this.decrypted,
      decrypt_failures: this.failureCount,
      encrypt_ms: this.encrypt.figures(),
      decrypt_ms: this.decrypt.figures(),
    };
  }

  destroy(): void {
    this.encrypt.destroy();
    this.decrypt.destroy();
  }

  private fail(failure: DecryptFailure): void {
    this.failureCount++;
    if (this.failures.length < FAILURES_KEPT_MAX) this.failures.push(failure);
  }

  private sessionOfUser(userId: string): MlsSession | undefined {
    for (const [device, a] of this.sessions)
      if (device.user.userId === userId && a.client.state === 'connected' && a.session.device) return a.session;
    return undefined;
  }
}

/** The readable witness of a decrypt failure. */
export function describeDecryptFailure(f: DecryptFailure): string {
  return `${f.device} could not read ${f.conversationId}#${f.seq} from ${f.sender}: ${f.code} (${f.message})`;
}

/** An error's stable code: the MLS layer's, the client's, or `unknown`. */
export function codeOf(error: unknown): string {
  if (error instanceof MlsSessionError) return error.code;
  return isChatClientError(error) ? error.code : 'unknown';
}

function pendingKey(device: string, conversationId: string, seq: number): string {
  return `${device}|${conversationId}#${seq}`;
}

function isApplicationMessage(bodyBase64: string): boolean {
  try {
    return decodeEnvelope(Buffer.from(bodyBase64, 'base64')).kind === 'application';
  } catch {
    return false;
  }
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
