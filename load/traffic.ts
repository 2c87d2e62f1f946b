import {
  base64ToText,
  directConversationId,
  isChatClientError,
  uploadMedia,
  type ConversationEvent,
  type ReceiptInfo,
  type SendResult,
  type Via,
} from '../sdk/index.js';
import { MlsSessionError, uploadEncryptedMedia, type EncryptedMedia } from '../sdk/mls/index.js';
import type { Scenario } from '../scenarios/format/index.js';
import type { Random } from '../system/ports/random.js';
import type { DeviceFleet, VirtualDevice } from './device-fleet.js';
import type { EncryptionLayer } from './encryption.js';
import { nowEpochMs, type LoadMeasurements } from './measurements.js';
import type { PlannedGroup, PopulationPlan, ShardPlan } from './plan.js';
import { pickContactRank, pickWeighted, sample } from '../scenarios/plan/index.js';

/** Bodies carry their scheduled send time first, so any driver process can time the delivery. */
const BODY_PREFIX = /^t=(\d+(?:\.\d+)?);/;
/** Stay under the server's messageBytesMax (64 KiB) whatever the scenario's size law draws. */
const MESSAGE_BYTES_CAP = 60_000;
/** Stay at the server's mediaBytesMax (16 MiB). */
const MEDIA_BYTES_CAP = 16 * 1024 * 1024;
/** Sends awaiting a receipt kept per (device, conversation); older ones are no longer timed. */
const AWAITING_RECEIPT_MAX = 1_000;

export function groupNameOf(runId: string, group: PlannedGroup): string {
  return `load ${runId} g${group.index}`;
}
const GROUP_INDEX_IN_NAME = / g(\d+)$/;

/**
 * The body of a scheduled message: its time stamp (and the test-only marker, see
 * RunLoadOptions.plaintextMarker), then padding up to the drawn size.
 */
export function messageBody(scheduledAtMs: number, sizeBytes: number, marker = ''): string {
  const prefix = `t=${scheduledAtMs.toFixed(3)};${marker}`;
  const size = Math.min(MESSAGE_BYTES_CAP, Math.round(sizeBytes));
  return size > prefix.length ? prefix + 'x'.repeat(size - prefix.length) : prefix;
}

/** The scheduled send time a body carries, or undefined for bodies not sent by a load driver. */
export function scheduledTimeOf(body: string): number | undefined {
  const match = BODY_PREFIX.exec(body);
  return match ? Number(match[1]) : undefined;
}

export interface TrafficOptions {
  scenario: Scenario;
  runId: string;
  plan: PopulationPlan;
  shardPlan: ShardPlan;
  fleet: DeviceFleet;
  measurements: LoadMeasurements;
  random: Random;
  /** The encrypted share (traffic.encrypted_share > 0): its conversations go through MLS. */
  encryption?: EncryptionLayer;
  /** Test-only: written after the time stamp of every body (confidentiality scans). */
  plaintextMarker?: string;
}

/**
 * What the virtual users do: send on the open-model schedule (the caller says when), choosing a
 * sender by activity among online devices and a conversation by the scenario's group share, hot
 * groups and contacts; attach media; read what arrives; time everything.
 */
export class TrafficGenerator {
  /** Group conversation ids by plan index, learned from creation results and `created` events. */
  readonly groupIds = new Map<number, string>();
  /** Groups each user knows about (conversation ids). */
  private readonly userGroups = new Map<string, string[]>();
  /** Groups each user was removed from and not added back to (conversation ids). */
  private readonly removedFrom = new Map<string, Set<string>>();
  private readonly activityCumulative: number[] = [];
  private readonly hotGroups: Array<{ group: PlannedGroup; cumulativeShare: number; shardMembers: string[] }> = [];
  private readonly devicesByUser = new Map<string, VirtualDevice[]>();
  private readonly readTimers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;
  /** Sends still waiting for their media upload. */
  private pendingUploads = new Set<Promise<void>>();

  constructor(private readonly o: TrafficOptions) {
    let total = 0;
    for (const user of o.shardPlan.users) this.activityCumulative.push((total += user.activity));
    for (const device of o.fleet.devices) {
      const list = this.devicesByUser.get(device.user.userId) ?? [];
      list.push(device);
      this.devicesByUser.set(device.user.userId, list);
    }
    let share = 0;
    const mine = new Set(o.shardPlan.users.map((u) => u.index));
    for (const group of o.plan.groups) {
      if (group.trafficShare === undefined) continue;
      share += group.trafficShare;
      const members = [group.creatorIndex, ...group.memberIndexes].filter((i) => mine.has(i)).map((i) => o.plan.users[i]!.userId);
      this.hotGroups.push({ group, cumulativeShare: share, shardMembers: members });
    }
  }

  /** A group this shard created (setup) or learned of. */
  learnGroup(groupIndex: number, conversationId: string, memberUserIds: readonly string[]): void {
    this.groupIds.set(groupIndex, conversationId);
    this.o.encryption?.noteGroup(groupIndex, conversationId, memberUserIds);
    for (const userId of memberUserIds) {
      this.removedFrom.get(userId)?.delete(conversationId);
      const known = this.userGroups.get(userId);
      if (!known) this.userGroups.set(userId, [conversationId]);
      else if (!known.includes(conversationId)) known.push(conversationId);
    }
  }

  /** A user no longer in a group (removed, or left): they stop choosing it. */
  forgetMember(conversationId: string, userId: string): void {
    const known = this.userGroups.get(userId);
    const at = known ? known.indexOf(conversationId) : -1;
    if (at >= 0) known!.splice(at, 1);
    const removed = this.removedFrom.get(userId);
    if (removed) removed.add(conversationId);
    else this.removedFrom.set(userId, new Set([conversationId]));
  }

  /** Whether the user was removed from the group (and not added back): its later events are not theirs. */
  isRemovedFrom(userId: string, conversationId: string): boolean {
    return this.removedFrom.get(userId)?.has(conversationId) ?? false;
  }

  /** Sends one message scheduled at `scheduledAtMs` (epoch ms); never waits for the answer. */
  sendOne(scheduledAtMs: number): void {
    const { scenario, random } = this.o;
    const choice = this.choose(random.nextFloat() < scenario.traffic.group_share);
    if (!choice) {
      this.o.measurements.onError('driver:no_online_sender');
      return;
    }
    const size = sample(scenario.traffic.message_bytes, random);
    if (random.nextFloat() < scenario.traffic.media.share) {
      const mediaBytes = Math.max(1, Math.min(MEDIA_BYTES_CAP, Math.round(sample(scenario.traffic.media.bytes, random))));
      const upload = this.sendWithMedia(choice.device, choice.conversationId, size, mediaBytes);
      this.pendingUploads.add(upload);
      void upload.finally(() => this.pendingUploads.delete(upload));
      return;
    }
    this.send(choice.device, choice.conversationId, scheduledAtMs, size);
  }

  /** Called for every conversation event a device hands to its app. */
  onEvent(device: VirtualDevice, event: ConversationEvent, via: Via): void {
    if (event.kind === 'membership') {
      if (event.op === 'created' && event.name) {
        const index = GROUP_INDEX_IN_NAME.exec(event.name);
        if (index) this.learnGroup(Number(index[1]), event.conversationId, event.userIds);
      } else if (event.op === 'added') {
        const id = [...this.groupIds.entries()].find(([, c]) => c === event.conversationId);
        if (id) this.learnGroup(id[0], event.conversationId, event.userIds);
      } else if (event.op === 'removed' || event.op === 'left') {
        for (const userId of event.userIds) this.forgetMember(event.conversationId, userId);
      }
      return;
    }
    // An encrypted conversation's messages are timed when decrypted, by the encryption layer.
    if (!this.o.encryption?.onEvent(device, event, via))
      this.o.measurements.onDeliver(via, scheduledTimeOf(base64ToText(event.bodyBase64)), nowEpochMs());
    const reads = this.o.scenario.traffic.reads;
    if (this.stopped || this.o.random.nextFloat() >= reads.share) return;
    const client = device.client;
    const timer = setTimeout(
      () => {
        this.readTimers.delete(timer);
        if (device.client === client && client?.state === 'connected') client.markRead(event.conversationId, event.seq);
      },
      sample(reads.delay_s, this.o.random) * 1000,
    );
    timer.unref();
    this.readTimers.add(timer);
  }

  /** A delivered receipt for our own messages: send→receipt latency of each message it covers. */
  onReceipt(device: VirtualDevice, receipt: ReceiptInfo): void {
    if (receipt.state !== 'delivered') return;
    const queue = device.awaitingReceipt.get(receipt.conversationId);
    if (!queue) return;
    const now = nowEpochMs();
    let covered = 0;
    while (covered < queue.length && queue[covered]!.seq <= receipt.upToSeq)
      this.o.measurements.onReceipt(queue[covered++]!.scheduledAtMs, now);
    if (covered > 0) queue.splice(0, covered);
  }

  /** Stops reads and waits for sends still uploading their media. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.readTimers) clearTimeout(timer);
    this.readTimers.clear();
    await Promise.allSettled([...this.pendingUploads]);
  }

  private send(
    device: VirtualDevice,
    conversationId: string,
    scheduledAtMs: number,
    sizeBytes: number,
    media?: { plain?: Parameters<NonNullable<VirtualDevice['client']>['send']>[2]; encrypted?: EncryptedMedia },
  ): void {
    const client = device.client;
    if (!client) {
      this.o.measurements.onError('driver:sender_went_offline');
      return;
    }
    const m = this.o.measurements;
    m.onSent();
    device.sentTo.add(conversationId);
    const body = messageBody(scheduledAtMs, sizeBytes, this.o.plaintextMarker);
    const encryption = this.o.encryption;
    const sending: Promise<SendResult> = encryption?.isEncryptedConversation(conversationId)
      ? encryption.send(device, conversationId, body, media?.encrypted)
      : client.send(conversationId, body, media?.plain);
    sending.then(
      (result) => {
        m.onAck(scheduledAtMs, nowEpochMs());
        if (!m.isMeasured(scheduledAtMs)) return;
        let queue = device.awaitingReceipt.get(conversationId);
        if (!queue) device.awaitingReceipt.set(conversationId, (queue = []));
        queue.push({ seq: result.seq, scheduledAtMs });
        if (queue.length > AWAITING_RECEIPT_MAX) queue.shift();
      },
      (error: unknown) => {
        const code = error instanceof MlsSessionError ? `mls:${error.code}` : isChatClientError(error) ? error.code : 'unknown';
        // Our own churn closed the client: the user went away mid-send, not a system error.
        if (code === 'CLOSED') m.abandoned++;
        else m.onError(code);
      },
    );
  }

  /** Uploads first; the message is timed from when it is actually sent (upload time is timed apart). */
  private async sendWithMedia(device: VirtualDevice, conversationId: string, sizeBytes: number, mediaBytes: number): Promise<void> {
    const client = device.client;
    if (!client) return;
    const startedMs = nowEpochMs();
    try {
      const bytes = new Uint8Array(mediaBytes).fill(0x5a);
      // An encrypted conversation's file is encrypted before its upload; its key travels in the message.
      const media = this.o.encryption?.isEncryptedConversation(conversationId)
        ? { encrypted: await uploadEncryptedMedia(client, conversationId, bytes, 'image/jpeg') }
        : { plain: { media: await uploadMedia(client, conversationId, bytes, 'image/jpeg') } };
      this.o.measurements.upload.record(nowEpochMs() - startedMs);
      this.send(device, conversationId, nowEpochMs(), sizeBytes, media);
    } catch (error) {
      this.o.measurements.onError(`media:${isChatClientError(error) ? error.code : 'upload_failed'}`);
    }
  }

  private choose(toGroup: boolean): { device: VirtualDevice; conversationId: string } | undefined {
    const random = this.o.random;
    if (toGroup && this.hotGroups.length > 0) {
      const u = random.nextFloat();
      const hot = this.hotGroups.find((h) => u < h.cumulativeShare);
      const conversationId = hot ? this.groupIds.get(hot.group.index) : undefined;
      if (hot && conversationId && hot.shardMembers.length > 0) {
        const device = this.onlineDeviceOf(hot.shardMembers[Math.floor(random.nextFloat() * hot.shardMembers.length)]!);
        if (device) return { device, conversationId };
      }
    }
    const device = this.pickSender();
    if (!device) return undefined;
    const user = device.user;
    const groups = toGroup ? this.userGroups.get(user.userId) : undefined;
    if (groups && groups.length > 0) return { device, conversationId: groups[Math.floor(random.nextFloat() * groups.length)]! };
    if (user.contacts.length === 0) return undefined;
    const partner = user.contacts[pickContactRank(user.contacts.length, random)]!;
    return { device, conversationId: directConversationId(user.userId, partner) };
  }

  /** A sender by activity weight; if that user has no device online, any online device. */
  private pickSender(): VirtualDevice | undefined {
    const users = this.o.shardPlan.users;
    if (users.length === 0) return undefined;
    const user = users[pickWeighted(this.activityCumulative, this.o.random)]!;
    const device = this.onlineDeviceOf(user.userId);
    if (device) return device;
    const online = this.o.fleet.online;
    return online.length === 0 ? undefined : online[Math.floor(this.o.random.nextFloat() * online.length)];
  }

  private onlineDeviceOf(userId: string): VirtualDevice | undefined {
    const devices = this.devicesByUser.get(userId);
    if (!devices) return undefined;
    const online = devices.filter((d) => d.onlineSlot >= 0);
    return online.length === 0 ? undefined : online[Math.floor(this.o.random.nextFloat() * online.length)];
  }
}
