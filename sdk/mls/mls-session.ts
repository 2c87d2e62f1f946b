import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  emptyPskIndex,
  encodeMlsMessage,
  joinGroup,
  processMessage,
  processPrivateMessage,
  type ClientState,
  type CreateCommitResult,
  type KeyPackage,
  type PrivateMessage,
  type Proposal,
} from 'ts-mls';
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import type { ChatMessageEvent, ConversationEvent, MembershipEvent } from '../../system/core/events.js';
import { directParticipants, type ClientMessageId, type ConversationId, type DeviceAddress, type UserId } from '../../system/core/ids.js';
import { KeyedSerializer } from '../../system/core/keyed-serializer.js';
import type { Clock } from '../../system/ports/clock.js';
import type { Random } from '../../system/ports/random.js';
import { mlsIdentity } from '../../system/protocol/mls.js';
import type { ChatClient } from '../client.js';
import { Emitter } from '../emitter.js';
import { isChatClientError } from '../errors.js';
import type { SendResult } from '../core/outbox.js';
import { realClock } from '../real-clock.js';
import { cryptoRandom } from '../real-random.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
import { MlsSessionError, type MlsErrorCode } from './errors.js';
import { KeyPackagePool } from './key-package-pool.js';
import { decodePayload, encodePayload, type MessageContent } from './payload.js';
import { decodeClaimedKeyPackage, deviceOfLeaf, fromUtf8, mlsSuite, newKeyPackage, utf8 } from './suite.js';

export interface MlsSessionOptions {
  /** Single-use KeyPackages kept in the directory (at most the server's keyPackagesPerUploadMax; default 10). */
  keyPackagesTarget?: number;
  /** Top up when fewer than this many are left after a Welcome used one (default 3). */
  keyPackagesLowWatermark?: number;
  /** Timers (default: real time). */
  clock?: Clock;
  /** Message ids (default: crypto). */
  random?: Random;
  /** After losing the race to create a group, wait this long for the winner's Welcome (default 15000). */
  welcomeWaitMs?: number;
  /** Attempts of one commit that keeps losing the epoch race (default 6). */
  commitAttemptsMax?: number;
  /** Members wait their rank × this before adding a device that asked to join, so one of them does it (default 250). */
  joinStaggerMs?: number;
  /** On start, ask to be added to the user's existing conversations (a new device; default true). */
  announce?: boolean;
  /**
   * Devices added per commit (default 48): a commit with its Welcome must fit the server's
   * mlsHandshakeBytesMax, and each added device costs ~650 bytes there (its KeyPackage, its leaf
   * in the ratchet tree, its encrypted secrets). Larger additions take several commits.
   */
  addsPerCommitMax?: number;
  /**
   * Called with the time each application message this device encrypts or decrypts took (ms,
   * wall time of the MLS calls from `performance.now()`, so a busy event loop inflates it; not
   * called when absent). For cost measurements such as the load driver's; waiting in the
   * conversation's lane is not included.
   */
  measureCrypto?: (operation: 'encrypt' | 'decrypt', durationMs: number) => void;
}

/** A decrypted application message. */
export interface DecryptedMessage extends MessageContent {
  conversationId: ConversationId;
  seq: number;
  senderUserId: UserId;
  senderDeviceId: string;
  clientMessageId: ClientMessageId;
  serverTimeMs: number;
  /** The MLS epoch it was encrypted in. */
  epoch: number;
}

/** A message the session refused: tampered, replayed, misrouted, or not readable by this device. */
export interface RejectedMessage {
  conversationId: ConversationId;
  seq: number;
  senderUserId: UserId;
  senderDeviceId: string;
  code: MlsErrorCode;
  message: string;
}

export type MlsSessionEvents = {
  message: (message: DecryptedMessage) => void;
  rejected: (rejected: RejectedMessage) => void;
  /** This device joined the conversation's group (created it, or by a Welcome). */
  joined: (info: { conversationId: ConversationId; epoch: number }) => void;
  /** A commit moved the group to a new epoch. */
  epoch: (info: { conversationId: ConversationId; epoch: number }) => void;
  /** A commit removed this device from the group. */
  removed: (info: { conversationId: ConversationId }) => void;
  /** Background work failed (adding a device that asked to join, topping up KeyPackages). */
  error: (error: Error) => void;
};

type Received = { ok: true; message?: DecryptedMessage } | { ok: false; code: MlsErrorCode; message: string };

/** A commit that lost the race for its epoch (MLS_EPOCH_CONFLICT from the server). */
class EpochLost extends Error {}

/**
 * End-to-end encryption for one device, layered on a ChatClient: every conversation (1:1 too) is
 * an MLS group (RFC 9420) whose members are all devices of its users, the sender's other devices
 * included. Messages are encrypted before `send` and decrypted as events arrive; adding or
 * removing users or devices is an MLS commit that travels, with its Welcome, as a conversation
 * message in the conversation's order. See docs/e2ee.md.
 *
 * Everything touching one conversation's group state runs in that conversation's lane (one task
 * at a time, in arrival order), so events are applied in seq order and never interleave with a
 * commit this device is making.
 */
export class MlsSession extends Emitter<MlsSessionEvents> {
  private readonly lanes = new KeyedSerializer();
  private readonly groups = new Map<ConversationId, ClientState>();
  /** Users of each group conversation, from its membership events. */
  private readonly groupUsers = new Map<ConversationId, Set<UserId>>();
  private readonly joinWaiters = new Map<ConversationId, Array<() => void>>();
  /** Devices still to add to a group this device founded (the founding commit carries the first batch). */
  private readonly pendingAdds = new Map<ConversationId, KeyPackage[]>();
  /** The epoch this device entered each group in: messages of earlier epochs were never meant for it. */
  private readonly joinedAtEpoch = new Map<ConversationId, bigint>();
  private readonly o: Required<Omit<MlsSessionOptions, 'clock' | 'random' | 'measureCrypto'>> & { clock: Clock; random: Random };
  private readonly measureCrypto: MlsSessionOptions['measureCrypto'];
  private pool: KeyPackagePool | undefined;
  private me: DeviceAddress | undefined;
  private messageCounter = 0;

  constructor(
    readonly client: ChatClient,
    options: MlsSessionOptions = {},
  ) {
    super();
    const target = options.keyPackagesTarget ?? 10;
    this.o = {
      keyPackagesTarget: target,
      keyPackagesLowWatermark: options.keyPackagesLowWatermark ?? Math.min(3, target),
      clock: options.clock ?? realClock,
      random: options.random ?? cryptoRandom,
      welcomeWaitMs: options.welcomeWaitMs ?? 15_000,
      commitAttemptsMax: options.commitAttemptsMax ?? 6,
      joinStaggerMs: options.joinStaggerMs ?? 250,
      announce: options.announce ?? true,
      addsPerCommitMax: options.addsPerCommitMax ?? 48,
    };
    this.measureCrypto = options.measureCrypto;
    client.on('event', (event) => this.onEvent(event));
  }

  /**
   * Connects (if needed), publishes this device's KeyPackages and, for a device that is new to
   * existing conversations, asks their members to add it.
   */
  async start(): Promise<void> {
    const welcome = await this.client.connect();
    this.me = { userId: welcome.userId, deviceId: welcome.deviceId };
    this.pool = new KeyPackagePool(this.client, this.me, this.o.keyPackagesTarget, this.o.keyPackagesLowWatermark, (error) => {
      // A client closed meanwhile has nothing left to top up.
      if (this.client.state !== 'closed') this.emit('error', error);
    });
    await this.pool.publish();
    if (this.o.announce) await this.announce();
  }

  /** This device, once started. */
  get device(): DeviceAddress | undefined {
    return this.me;
  }

  /** The group's current epoch, or undefined when this device is not in it. */
  epoch(conversationId: ConversationId): number | undefined {
    const state = this.groups.get(conversationId);
    return state ? Number(state.groupContext.epoch) : undefined;
  }

  /** The devices in the conversation's group, as this device sees it. */
  members(conversationId: ConversationId): DeviceAddress[] {
    const state = this.groups.get(conversationId);
    return state ? leaves(state).map((l) => l.device) : [];
  }

  /** Resolves once any KeyPackage top-up in progress is done. */
  async settled(): Promise<void> {
    await this.pool?.settled();
  }

  // ---------- sending ----------

  /**
   * Encrypts and sends a message. Creates the conversation's group first if nobody has yet; if
   * another device wins that race, waits for its Welcome and sends in its group.
   */
  async send(
    conversationId: ConversationId,
    content: MessageContent,
    options: { clientMessageId?: ClientMessageId } = {},
  ): Promise<SendResult> {
    const clientMessageId = options.clientMessageId ?? this.newMessageId();
    for (let attempt = 1; ; attempt++) {
      try {
        // The lane covers encryption (state must move one message at a time) but not the wait
        // for the server's ack, so a burst of sends is encrypted in order and sent back to back.
        const sending = await this.lanes.run(conversationId, async () => {
          await this.ensureGroupInLane(conversationId);
          return this.encryptAndSend(conversationId, content, clientMessageId);
        });
        return await sending.sent;
      } catch (error) {
        // A claim or commit that timed out or was throttled: the same step can succeed later.
        if (isChatClientError(error) && error.retryable && attempt < this.o.commitAttemptsMax) {
          await this.sleep(error.retryAfterMs ?? 100 * 2 ** attempt);
          continue;
        }
        if (!(error instanceof EpochLost) || attempt >= this.o.commitAttemptsMax) throw error;
        // Lost the founding race: the winner's Welcome is on its way. Lost a later batch: let the
        // winning commit be applied, then add the rest on top of it.
        if (this.groups.has(conversationId)) await this.sleep(50 * 2 ** attempt);
        else await this.waitJoined(conversationId);
      }
    }
  }

  /**
   * Makes sure the conversation has an MLS group this device is in (founding it if nobody has),
   * without sending anything: lets an app pay the setup cost before the first message.
   */
  async ensureGroup(conversationId: ConversationId): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.lanes.run(conversationId, () => this.ensureGroupInLane(conversationId));
        return;
      } catch (error) {
        if (attempt >= this.o.commitAttemptsMax) throw error;
        if (isChatClientError(error) && error.retryable) await this.sleep(error.retryAfterMs ?? 100 * 2 ** attempt);
        else if (!(error instanceof EpochLost)) throw error;
        else if (this.groups.has(conversationId)) await this.sleep(50 * 2 ** attempt);
        else await this.waitJoined(conversationId);
      }
    }
  }

  /** Creates a group on the server and its MLS group with every device of its members. */
  async createGroup(name: string, userIds: UserId[]): Promise<ConversationId> {
    const { conversationId } = await this.client.createGroup(name, userIds);
    this.noteUsers(conversationId, [this.requireMe().userId, ...userIds]);
    await this.lanes
      .run(conversationId, () => this.ensureGroupInLane(conversationId))
      .catch(async (error: unknown) => {
        if (!(error instanceof EpochLost)) throw error;
        await this.waitJoined(conversationId);
      });
    return conversationId;
  }

  /** Adds users to a group: on the server, then an MLS commit adding all their devices. */
  async addMembers(conversationId: ConversationId, userIds: UserId[]): Promise<void> {
    await this.client.addMembers(conversationId, userIds);
    this.noteUsers(conversationId, userIds);
    await this.addDevices(conversationId, userIds);
  }

  /** Removes a user: on the server, then an MLS commit removing all its devices (they cannot read what follows). */
  async removeMember(conversationId: ConversationId, userId: UserId): Promise<void> {
    await this.client.removeMember(conversationId, userId);
    this.groupUsers.get(conversationId)?.delete(userId);
    await this.commitChange(conversationId, async (state) =>
      leaves(state)
        .filter((l) => l.device.userId === userId)
        .map((l) => removal(l.leafIndex)),
    );
  }

  /** Removes one device from the group (e.g. it was unlinked). */
  async removeDevice(conversationId: ConversationId, device: DeviceAddress): Promise<void> {
    await this.commitChange(conversationId, async (state) =>
      leaves(state)
        .filter((l) => sameDevice(l.device, device))
        .map((l) => removal(l.leafIndex)),
    );
  }

  /**
   * Adds every device of the users (default: all users of the conversation) that is not in the
   * group yet and has a KeyPackage in the directory.
   */
  async addDevices(conversationId: ConversationId, userIds?: UserId[]): Promise<void> {
    await this.commitChange(conversationId, async (state) => {
      const users = userIds ?? this.usersOf(conversationId);
      const present = leaves(state).map((l) => l.device);
      const claimed = await this.client.claimKeyPackages(users, present);
      const packages = await Promise.all(claimed.keyPackages.map((p) => decodeClaimedKeyPackage(p.keyPackage, p)));
      return packages.map((keyPackage): Proposal => ({ proposalType: 'add', add: { keyPackage } }));
    });
  }

  /**
   * Runs one received event through the session (in its conversation's lane) and returns the
   * decrypted message, or throws MlsSessionError. Events from the ChatClient are handled
   * automatically; this is for messages obtained otherwise (history pages, inspection).
   */
  async open(event: ChatMessageEvent): Promise<DecryptedMessage | undefined> {
    const outcome = await this.lanes.run(event.conversationId, () => this.receive(event));
    if (!outcome.ok) throw new MlsSessionError(outcome.code, outcome.message);
    return outcome.message;
  }

  // ---------- group lifecycle (in the lane) ----------

  private async ensureGroupInLane(conversationId: ConversationId): Promise<void> {
    if (this.groups.has(conversationId)) {
      // A founding too large for one commit: the remaining devices go in before any message.
      const pending = this.pendingAdds.get(conversationId);
      if (!pending) return;
      if ((await this.commitAddsInLane(conversationId, pending)) === 'lost') throw new EpochLost();
      this.pendingAdds.delete(conversationId);
      return;
    }
    const me = this.requireMe();
    const impl = await mlsSuite();
    const users = this.usersOf(conversationId);
    const claimed = await this.client.claimKeyPackages(users);
    for (const userId of users) {
      if (userId === me.userId) continue;
      const hasAny = claimed.keyPackages.some((p) => p.userId === userId);
      if (!hasAny) throw new MlsSessionError('PEER_NOT_READY', `no device of ${userId} has a KeyPackage in the directory`);
    }
    const packages = await Promise.all(claimed.keyPackages.map((p) => decodeClaimedKeyPackage(p.keyPackage, p)));
    const own = await newKeyPackage(me);
    const empty = await createGroup(utf8(conversationId), own.publicPackage, own.privatePackage, [], impl);
    const first = packages.slice(0, this.o.addsPerCommitMax);
    const result = await createCommit(
      { state: empty, cipherSuite: impl },
      { extraProposals: first.map(addition), ratchetTreeExtension: true },
    );
    // Epoch 0 is the creation: whoever's commit the server takes first founds the group.
    if (!(await this.sendCommit(conversationId, 0, result))) throw new EpochLost();
    this.joinedAtEpoch.set(conversationId, result.newState.groupContext.epoch);
    this.adopt(conversationId, result.newState);
    this.emit('joined', { conversationId, epoch: Number(result.newState.groupContext.epoch) });
    const rest = packages.slice(first.length);
    if (rest.length === 0) return;
    this.pendingAdds.set(conversationId, rest);
    if ((await this.commitAddsInLane(conversationId, rest)) === 'lost') throw new EpochLost();
    this.pendingAdds.delete(conversationId);
  }

  /**
   * Adds devices in commits of at most addsPerCommitMax (skipping devices already in the group);
   * 'lost' when a commit lost its epoch (what is left stays to be added on the next try).
   */
  private async commitAddsInLane(conversationId: ConversationId, packages: KeyPackage[]): Promise<'done' | 'lost'> {
    for (;;) {
      const state = this.groups.get(conversationId)!;
      const present = new Set(leaves(state).map((l) => mlsIdentity(l.device)));
      const missing = packages.filter((p) => !present.has(mlsIdentityOf(p)));
      if (missing.length === 0) return 'done';
      const batch = missing.slice(0, this.o.addsPerCommitMax);
      const result = await createCommit(
        { state, cipherSuite: await mlsSuite() },
        { extraProposals: batch.map(addition), ratchetTreeExtension: true },
      );
      if (!(await this.sendCommit(conversationId, Number(state.groupContext.epoch), result))) return 'lost';
      this.adopt(conversationId, result.newState);
      this.emit('epoch', { conversationId, epoch: Number(result.newState.groupContext.epoch) });
    }
  }

  /**
   * Makes a commit of the proposals `build` returns (none: nothing to do), retrying with fresh
   * proposals when another commit wins the epoch.
   */
  private async commitChange(conversationId: ConversationId, build: (state: ClientState) => Promise<Proposal[]>): Promise<void> {
    for (let attempt = 1; attempt <= this.o.commitAttemptsMax; attempt++) {
      const outcome = await this.lanes.run(conversationId, async () => {
        const state = this.groups.get(conversationId);
        if (!state) throw new MlsSessionError('NOT_IN_GROUP', `this device is not in the group of ${conversationId}`);
        const proposals = await build(state);
        if (proposals.length === 0) return 'nothing';
        const adds = proposals.flatMap((p) => (p.proposalType === 'add' ? [p.add.keyPackage] : []));
        if (adds.length === proposals.length) return this.commitAddsInLane(conversationId, adds);
        const result = await createCommit(
          { state, cipherSuite: await mlsSuite() },
          { extraProposals: proposals, ratchetTreeExtension: true },
        );
        if (!(await this.sendCommit(conversationId, Number(state.groupContext.epoch), result))) return 'lost';
        this.adopt(conversationId, result.newState);
        this.emit('epoch', { conversationId, epoch: Number(result.newState.groupContext.epoch) });
        return 'done';
      });
      if (outcome !== 'lost') return;
      // Another commit took the epoch: let its event arrive and be applied, then build again on it.
      await this.sleep(50 * 2 ** attempt);
    }
    throw new MlsSessionError('EPOCH_CONFLICT', `${this.o.commitAttemptsMax} commits in ${conversationId} lost the epoch race`);
  }

  /** Sends a commit (with its Welcome) in `epoch`; false when another commit already took that epoch. */
  private async sendCommit(conversationId: ConversationId, epoch: number, result: CreateCommitResult): Promise<boolean> {
    const welcome = result.welcome ? encodeMlsMessage({ welcome: result.welcome, wireformat: 'mls_welcome', version: 'mls10' }) : undefined;
    const body = encodeEnvelope({ kind: 'commit', commit: encodeMlsMessage(result.commit), welcome });
    try {
      await this.client.send(conversationId, body, { clientMessageId: this.newMessageId(), mls: { kind: 'commit', epoch } });
      return true;
    } catch (error) {
      if (isChatClientError(error) && error.code === 'MLS_EPOCH_CONFLICT') return false;
      throw error;
    }
  }

  /** Encrypts with the group's current state and hands the message to the client (resolves before the ack). */
  private async encryptAndSend(
    conversationId: ConversationId,
    content: MessageContent,
    clientMessageId: ClientMessageId,
  ): Promise<{ sent: Promise<SendResult> }> {
    const state = this.groups.get(conversationId)!;
    const impl = await mlsSuite();
    const startedMs = this.measureCrypto ? performance.now() : 0;
    // Bound to its message id: the server cannot present it as another message.
    const encrypted = await createApplicationMessage(state, encodePayload(content), impl, utf8(clientMessageId));
    // The ratchet has moved on whether or not the send succeeds: never reuse a key.
    this.groups.set(conversationId, encrypted.newState);
    const message = encodeMlsMessage({ privateMessage: encrypted.privateMessage, wireformat: 'mls_private_message', version: 'mls10' });
    this.measureCrypto?.('encrypt', performance.now() - startedMs);
    const sent = this.client.send(conversationId, encodeEnvelope({ kind: 'application', message }), {
      clientMessageId,
      mls: { kind: 'application', epoch: Number(state.groupContext.epoch) },
    });
    return { sent };
  }

  // ---------- receiving (in the lane) ----------

  private onEvent(event: ConversationEvent): void {
    if (event.kind === 'membership') {
      this.noteMembership(event);
      return;
    }
    void this.lanes
      .run(event.conversationId, () => this.receive(event))
      .then((outcome) => {
        if (outcome.ok && outcome.message) this.emit('message', outcome.message);
        if (!outcome.ok) {
          this.emit('rejected', {
            conversationId: event.conversationId,
            seq: event.seq,
            senderUserId: event.senderUserId,
            senderDeviceId: event.senderDeviceId,
            code: outcome.code,
            message: outcome.message,
          });
        }
      })
      .catch((error: unknown) => this.emit('error', error instanceof Error ? error : new Error(String(error))));
  }

  private async receive(event: ChatMessageEvent): Promise<Received> {
    const me = this.me;
    // Our own messages (seen again through sync) cannot be decrypted by us, and need not be.
    if (me && event.senderUserId === me.userId && event.senderDeviceId === me.deviceId) return { ok: true };
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(Buffer.from(event.bodyBase64, 'base64'));
    } catch {
      return refuse('BAD_ENVELOPE');
    }
    switch (envelope.kind) {
      case 'application':
        return this.receiveApplication(event, envelope.message);
      case 'commit':
        return this.receiveCommit(event, envelope.commit, envelope.welcome);
      case 'join_request':
        this.receiveJoinRequest(event);
        return { ok: true };
    }
  }

  private async receiveApplication(event: ChatMessageEvent, bytes: Uint8Array): Promise<Received> {
    const state = this.groups.get(event.conversationId);
    if (!state) return refuse('NOT_IN_GROUP');
    const decoded = decodeWhole(bytes);
    if (decoded?.wireformat !== 'mls_private_message') return refuse('BAD_ENVELOPE');
    const pm = decoded.privateMessage;
    if (!sameBytes(pm.groupId, utf8(event.conversationId)))
      return refuse('WRONG_GROUP', `the message belongs to group "${fromUtf8(pm.groupId)}", not ${event.conversationId}`);
    if (pm.contentType !== 'application') return refuse('BAD_ENVELOPE');
    // Encrypted before this device joined (sent while its add was in flight): not addressed to it.
    if (pm.epoch < (this.joinedAtEpoch.get(event.conversationId) ?? 0n)) return { ok: true };
    const impl = await mlsSuite();
    // Sender and message id are checked before decrypting, so a forgery leaves the key unspent
    // for the genuine message. Decryption then authenticates both (sender data and the header's
    // authenticated data are covered by the AEAD and the sender's signature).
    if (fromUtf8(pm.authenticatedData) !== event.clientMessageId)
      return refuse('SENDER_MISMATCH', 'the message is bound to another message id');
    const startedMs = this.measureCrypto ? performance.now() : 0;
    let sender: DeviceAddress | undefined;
    try {
      sender = await senderOf(state, pm);
    } catch (error) {
      return refuse('DECRYPT_FAILED', `${MESSAGES.DECRYPT_FAILED}: ${(error as Error).message}`);
    }
    if (!sender) return refuse('DECRYPT_FAILED', `${MESSAGES.DECRYPT_FAILED}: no sender in this group`);
    if (!sameDevice(sender, { userId: event.senderUserId, deviceId: event.senderDeviceId })) {
      return refuse(
        'SENDER_MISMATCH',
        `the server names ${event.senderUserId}/${event.senderDeviceId} as sender; MLS says ${mlsIdentity(sender)}`,
      );
    }
    let plaintext: Uint8Array;
    try {
      const result = await processPrivateMessage(state, pm, emptyPskIndex, impl);
      if (result.kind !== 'applicationMessage') return refuse('BAD_ENVELOPE');
      this.groups.set(event.conversationId, result.newState);
      plaintext = result.message;
    } catch (error) {
      return refuse('DECRYPT_FAILED', `${MESSAGES.DECRYPT_FAILED}: ${(error as Error).message}`);
    }
    let content: MessageContent;
    try {
      content = decodePayload(plaintext);
    } catch {
      return refuse('BAD_PAYLOAD');
    }
    this.measureCrypto?.('decrypt', performance.now() - startedMs);
    return {
      ok: true,
      message: {
        ...content,
        conversationId: event.conversationId,
        seq: event.seq,
        senderUserId: event.senderUserId,
        senderDeviceId: event.senderDeviceId,
        clientMessageId: event.clientMessageId,
        serverTimeMs: event.serverTimeMs,
        epoch: Number(pm.epoch),
      },
    };
  }

  private async receiveCommit(event: ChatMessageEvent, commitBytes: Uint8Array, welcomeBytes: Uint8Array | undefined): Promise<Received> {
    const conversationId = event.conversationId;
    const state = this.groups.get(conversationId);
    if (!state) return welcomeBytes ? this.tryJoin(conversationId, welcomeBytes) : { ok: true };
    const commit = decodeWhole(commitBytes);
    if (commit?.wireformat !== 'mls_private_message' && commit?.wireformat !== 'mls_public_message') return refuse('BAD_ENVELOPE');
    const epoch = commit.wireformat === 'mls_private_message' ? commit.privateMessage.epoch : commit.publicMessage.content.epoch;
    const groupId = commit.wireformat === 'mls_private_message' ? commit.privateMessage.groupId : commit.publicMessage.content.groupId;
    if (!sameBytes(groupId, utf8(conversationId))) return refuse('WRONG_GROUP');
    // A commit for an epoch we are past lost its race (or is a repeat): every member ignores it.
    if (epoch < state.groupContext.epoch) return { ok: true };
    try {
      const result = await processMessage(commit, state, emptyPskIndex, acceptAll, await mlsSuite());
      if (result.kind !== 'newState') return refuse('BAD_ENVELOPE');
      if (result.newState.groupActiveState.kind === 'removedFromGroup') {
        this.groups.delete(conversationId);
        this.emit('removed', { conversationId });
        return { ok: true };
      }
      this.adopt(conversationId, result.newState);
      this.emit('epoch', { conversationId, epoch: Number(result.newState.groupContext.epoch) });
      return { ok: true };
    } catch (error) {
      return refuse('DECRYPT_FAILED', `${MESSAGES.DECRYPT_FAILED}: ${(error as Error).message}`);
    }
  }

  /** Joins by the Welcome if it is addressed to one of our KeyPackages. */
  private async tryJoin(conversationId: ConversationId, welcomeBytes: Uint8Array): Promise<Received> {
    const decoded = decodeWhole(welcomeBytes);
    if (decoded?.wireformat !== 'mls_welcome' || !this.pool) return { ok: true };
    const welcome = decoded.welcome;
    for (const secret of welcome.secrets) {
      const ref = Buffer.from(secret.newMember).toString('hex');
      const ours = this.pool.find(ref);
      if (!ours) continue;
      try {
        const state = await joinGroup(welcome, ours.publicPackage, ours.privatePackage, emptyPskIndex, await mlsSuite());
        if (!sameBytes(state.groupContext.groupId, utf8(conversationId))) return refuse('WRONG_GROUP');
        this.pool.used(ref);
        this.joinedAtEpoch.set(conversationId, state.groupContext.epoch);
        this.adopt(conversationId, state);
        this.emit('joined', { conversationId, epoch: Number(state.groupContext.epoch) });
        return { ok: true };
      } catch (error) {
        return refuse('DECRYPT_FAILED', `the Welcome could not be processed: ${(error as Error).message}`);
      }
    }
    return { ok: true };
  }

  /** A new device of a member asks to be added: members add it, staggered by rank so usually one does. */
  private receiveJoinRequest(event: ChatMessageEvent): void {
    const state = this.groups.get(event.conversationId);
    if (!state) return;
    const requester = { userId: event.senderUserId, deviceId: event.senderDeviceId };
    const present = leaves(state);
    if (present.some((l) => sameDevice(l.device, requester))) return;
    const rank = present.map((l) => l.leafIndex).indexOf(state.privatePath.leafIndex);
    const delayMs = Math.min(Math.max(rank, 0), 8) * this.o.joinStaggerMs;
    this.o.clock.setTimer(delayMs, () => {
      this.addDevices(event.conversationId, [requester.userId]).catch((error: unknown) => this.emit('error', error as Error));
    });
  }

  // ---------- helpers ----------

  private adopt(conversationId: ConversationId, state: ClientState): void {
    this.groups.set(conversationId, state);
    const waiters = this.joinWaiters.get(conversationId);
    if (!waiters) return;
    this.joinWaiters.delete(conversationId);
    for (const wake of waiters) wake();
  }

  private waitJoined(conversationId: ConversationId): Promise<void> {
    if (this.groups.has(conversationId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.o.clock.setTimer(this.o.welcomeWaitMs, () => {
        const list = this.joinWaiters.get(conversationId);
        list?.splice(list.indexOf(wake), 1);
        reject(new MlsSessionError('JOIN_TIMEOUT', `no Welcome into ${conversationId} within ${this.o.welcomeWaitMs} ms`));
      });
      const wake = () => {
        timer.cancel();
        resolve();
      };
      const list = this.joinWaiters.get(conversationId) ?? [];
      list.push(wake);
      this.joinWaiters.set(conversationId, list);
    });
  }

  private async announce(): Promise<void> {
    const conversations = await this.client.conversations();
    const request = encodeEnvelope({ kind: 'join_request' });
    await Promise.all(
      conversations
        .filter((c) => !this.groups.has(c.conversationId))
        // A group the user has left refuses the post (NOT_A_MEMBER): nothing to join there.
        .map((c) => this.client.send(c.conversationId, request).catch(() => undefined)),
    );
  }

  private noteMembership(event: MembershipEvent): void {
    if (event.op === 'created' || event.op === 'added') this.noteUsers(event.conversationId, event.userIds);
    if (event.op === 'removed' || event.op === 'left')
      for (const userId of event.userIds) this.groupUsers.get(event.conversationId)?.delete(userId);
  }

  private noteUsers(conversationId: ConversationId, userIds: UserId[]): void {
    const users = this.groupUsers.get(conversationId) ?? new Set<UserId>();
    for (const userId of userIds) users.add(userId);
    this.groupUsers.set(conversationId, users);
  }

  private usersOf(conversationId: ConversationId): UserId[] {
    const direct = directParticipants(conversationId);
    if (direct) return [...direct];
    const users = this.groupUsers.get(conversationId);
    if (!users) throw new MlsSessionError('MEMBERS_UNKNOWN', `the members of ${conversationId} are not known yet`);
    return [...users];
  }

  private requireMe(): DeviceAddress {
    if (!this.me) throw new MlsSessionError('NOT_IN_GROUP', 'start() the session first');
    return this.me;
  }

  private newMessageId(): ClientMessageId {
    return `${this.me?.deviceId ?? 'mls'}-e${++this.messageCounter}-${this.o.random.hex(6)}`;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.clock.setTimer(ms, resolve));
  }
}

const MESSAGES = { DECRYPT_FAILED: 'the message did not decrypt or authenticate' };

function refuse(code: MlsErrorCode, message?: string): Received {
  return { ok: false, code, message: message ?? code };
}

/** Decodes one MLS message that must fill the bytes exactly. */
function decodeWhole(bytes: Uint8Array) {
  try {
    const decoded = decodeMlsMessage(bytes, 0);
    return decoded && decoded[1] === bytes.byteLength ? decoded[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The device that sent a private message, from its (encrypted) sender data and the epoch's tree. */
async function senderOf(state: ClientState, pm: PrivateMessage): Promise<DeviceAddress | undefined> {
  const current = pm.epoch === state.groupContext.epoch;
  const historical = current ? undefined : state.historicalReceiverData.get(pm.epoch);
  const secret = current ? state.keySchedule.senderDataSecret : historical?.senderDataSecret;
  const tree = current ? state.ratchetTree : historical?.ratchetTree;
  if (!secret || !tree) return undefined;
  const senderData = await decryptSenderData(pm, secret, await mlsSuite());
  const node = senderData ? tree[senderData.leafIndex * 2] : undefined;
  return node?.nodeType === 'leaf' ? deviceOfLeaf(node.leaf) : undefined;
}

function leaves(state: ClientState): Array<{ leafIndex: number; device: DeviceAddress }> {
  const out: Array<{ leafIndex: number; device: DeviceAddress }> = [];
  state.ratchetTree.forEach((node, nodeIndex) => {
    if (node?.nodeType !== 'leaf') return;
    const device = deviceOfLeaf(node.leaf);
    if (device) out.push({ leafIndex: nodeIndex / 2, device });
  });
  return out;
}

function addition(keyPackage: KeyPackage): Proposal {
  return { proposalType: 'add', add: { keyPackage } };
}

function mlsIdentityOf(keyPackage: KeyPackage): string {
  const device = deviceOfLeaf(keyPackage.leafNode);
  return device ? mlsIdentity(device) : '';
}

function removal(leafIndex: number): Proposal {
  return { proposalType: 'remove', remove: { removed: leafIndex } };
}

function sameDevice(a: DeviceAddress, b: DeviceAddress): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
