import type { HistoryEvent } from '../../checker/history.js';
import { meanOf, messagesPerSAt, type Scenario } from '../../scenarios/format/index.js';
import { clientCoreConfig } from '../../sdk/core/config.js';
import type { ClientCoreConfig } from '../../sdk/core/ports.js';
import type { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import { SimClock } from '../../system/adapters/virtual/sim-clock.js';
import type { Clock } from '../../system/ports/clock.js';
import type { Random } from '../../system/ports/random.js';
import type { ConversationEvent } from '../../system/core/events.js';
import { directConversationId, type Seq } from '../../system/core/ids.js';
import { exponential, sample } from '../../scenarios/plan/index.js';
import type { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import { mixSeed, streamOf } from '../../system/adapters/virtual/seed-streams.js';
import type { RunCollector } from '../report/collector.js';
import type { ClientLink, SimConnection } from '../../system/worlds/simulated/sim-connection.js';
import type { SimWorld } from '../../system/worlds/simulated/sim-world.js';
import { Population } from './population.js';
import { VirtualDevice, type DeviceHost, type PendingSend, type PersistedDevice } from './virtual-device.js';
import { WeightedSlots } from './weighted-slots.js';

/** A pre-made base64 body long enough for any message size the scenario draws (bodies are opaque). */
const BODY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export interface WorkloadOptions {
  scenario: Scenario;
  seed: number;
  time: Scheduler;
  world: SimWorld;
  collector: RunCollector;
  record: (event: HistoryEvent) => void;
  /** Whether each device's `device` (linked) event goes into the history (full checking). */
  recordLinks: boolean;
  heartbeatTimeoutMs: number;
}

/**
 * The workload model: who is online (sessions with churn), who sends what to whom and when
 * (aggregate Poisson arrivals at the scenario's rate curve, senders drawn by heavy-tailed
 * activity, 1:1 vs group, hot groups, media), and how recipients read. Also the DeviceHost the
 * virtual clients use (connections, tokens, history, measurements).
 */
export class Workload implements DeviceHost {
  readonly population: Population;
  readonly time: Scheduler;
  readonly clientConfig: ClientCoreConfig;
  readonly clock: Clock;
  readonly random: Random;
  private readonly scenario: Scenario;
  private readonly world: SimWorld;
  private readonly collector: RunCollector;
  private readonly rng: SeededRandom;
  private readonly netRng: SeededRandom;
  private readonly body: string;
  /** Online (session active) devices by device index. */
  readonly live: Array<VirtualDevice | undefined>;
  private readonly persisted = new Map<number, PersistedDevice>();
  private readonly slots = new WeightedSlots(1024);
  private readonly slotOfDevice: Int32Array;
  private slotDevice = new Int32Array(1024);
  private readonly offlineList: Int32Array;
  private readonly offlinePos: Int32Array;
  private offlineCount: number;
  private readonly onlineShare: number;
  private readonly meanSessionMs: number;
  private sending = false;
  /** Virtual instant the load started (after set-up): scenario times count from here. */
  runStartMs = 0;
  private churning = false;
  /** Sessions end by themselves only while churning; in the liveness phase they stay. */
  connectedCount = 0;
  /** Extra one-way delay on client links (network_latency on clients). */
  clientExtraLatencyMs = 0;
  /** Gateways whose clients are cut off (network_partition on a gateway or on clients). */
  readonly blockedGateways = new Set<string>();
  /** slow_consumer: share of devices reading slowly, and their read rate. */
  slowShare = 0;
  slowReadBytesPerS = 2_000;
  private readonly link: ClientLink;
  readonly lastDisconnectMs: Float64Array;

  constructor(private readonly options: WorkloadOptions) {
    const { scenario, seed, time, world, collector } = options;
    this.scenario = scenario;
    this.time = time;
    this.world = world;
    this.collector = collector;
    this.rng = streamOf(seed, 'workload');
    this.netRng = streamOf(seed, 'client-links');
    this.population = new Population(scenario, seed);
    const c = scenario.sim.clients;
    // The SDK's client core with the scenario's client settings. Virtual devices leave catch-up
    // to the offline inbox (as a push-woken app does), and their links were recorded at set-up.
    this.clientConfig = clientCoreConfig({
      sendTimeoutMs: c.send_timeout_ms,
      syncRetryDelayMs: c.retry_delay_ms,
      sendRetryMaxDelayMs: c.retry_delay_ms,
      reconnectMinDelayMs: c.reconnect_min_ms,
      reconnectMaxDelayMs: c.reconnect_max_ms,
      idleTimeoutMs: options.heartbeatTimeoutMs,
      validateFrames: false,
      catchUpOnConnect: false,
      tokenRefreshes: true,
      recordsLink: false,
      acksPerInstant: true,
      history: this,
    });
    this.clock = new SimClock(time, 0);
    this.random = this.rng;
    const maxBody = 4096 * 2;
    let body = '';
    while (body.length < maxBody) body += BODY_ALPHABET;
    this.body = body;
    const devices = this.population.devices;
    this.live = new Array<VirtualDevice | undefined>(devices);
    this.slotOfDevice = new Int32Array(devices).fill(-1);
    this.offlineList = new Int32Array(devices);
    this.offlinePos = new Int32Array(devices);
    for (let d = 0; d < devices; d++) {
      this.offlineList[d] = d;
      this.offlinePos[d] = d;
    }
    this.offlineCount = devices;
    this.onlineShare = scenario.population.online_share;
    this.meanSessionMs = meanOf(scenario.population.session_length_s) * 1000;
    this.lastDisconnectMs = new Float64Array(this.population.users).fill(-1);
    const linkModel = scenario.sim.client_link;
    this.link = {
      oneWayMs: () =>
        sample(linkModel.latency_ms, this.netRng) +
        this.clientExtraLatencyMs +
        (this.netRng.nextFloat() < linkModel.loss ? linkModel.retransmit_ms : 0),
    };
  }

  get onlineDevices(): number {
    return this.population.devices - this.offlineCount;
  }

  // ---------- set-up ----------

  /**
   * Loads the population that existed before the run: links every device and creates every
   * group through the real services (GroupService: membership records, the `created` event in
   * each group's log, a copy in every member device's inbox), but as a bulk load through the
   * world's untimed seam (SimWorld.bulkLoader): no virtual time passes and no scheduler event
   * runs. Membership events reach each device from its inbox when it connects.
   */
  async setUp(): Promise<void> {
    const { population: p, world } = this;
    const loader = world.bulkLoader();
    const directory = world.backends.directory;
    // The population decides how many devices a user has; the per-user cap is not in question here.
    const devicesPerUserMax = 16;
    const linkedAtMs = loader.deps.clock.nowMs();
    // One string per user id and per device number, shared by the records that name them.
    const deviceIds: string[] = [];
    for (let u = 0; u < p.users; u++) {
      const userId = `u${u}`;
      for (let k = 0; k < p.devicesOf(u); k++) {
        const deviceId = (deviceIds[k] ??= `d${k}`);
        await directory.linkDevice({ userId, deviceId }, linkedAtMs, devicesPerUserMax);
        if (this.options.recordLinks) this.options.record({ type: 'device', atMs: 0, userId, deviceId });
      }
    }
    // Each group is created by its first member's first device.
    const batch: Array<Promise<void>> = [];
    for (let g = 0; g < p.groupCount; g++) {
      const start = p.groupStart[g]!;
      const creator = p.groupMembers[start]!;
      const others: string[] = [];
      for (let i = start + 1; i < p.groupStart[g + 1]!; i++) others.push(`u${p.groupMembers[i]!}`);
      batch.push(
        loader.groups.create({ userId: `u${creator}`, deviceId: 'd0' }, `group ${g}`, others).then((change) => {
          p.groupConversation[g] = change.conversationId;
        }),
      );
      if (batch.length >= 256) {
        await Promise.all(batch);
        batch.length = 0;
      }
    }
    await Promise.all(batch);
    if (this.time.pending > 0) throw new Error(`the bulk load left ${this.time.pending} scheduler events (it must take no virtual time)`);
  }

  // ---------- sessions and churn ----------

  /** Brings the initial online share up over `spreadMs`, then keeps churn going. */
  start(spreadMs: number): void {
    this.runStartMs = this.time.nowMs();
    this.churning = true;
    this.sending = true;
    const devices = this.population.devices;
    for (let d = 0; d < devices; d++) {
      if (this.rng.nextFloat() < this.onlineShare) {
        const at = this.rng.nextFloat() * spreadMs;
        this.time.schedule(at, () => {
          if (this.live[d] === undefined && this.churning) this.startSession(d);
        });
      }
    }
    this.scheduleNextConnect();
    this.scheduleNextSend();
  }

  /** Liveness phase: no new messages, sessions stop ending; optionally everyone comes online. */
  stopLoad(reconnectAll: boolean): void {
    this.sending = false;
    this.churning = false;
    if (reconnectAll) {
      while (this.offlineCount > 0) this.startSession(this.offlineList[0]!, false);
    }
  }

  private scheduleNextConnect(): void {
    if (this.onlineShare >= 1 || this.onlineShare <= 0) return;
    // Offline gaps are exponential with the mean that keeps online_share on average, so the
    // connects of all offline devices form one Poisson stream.
    const perDeviceRatePerMs = this.onlineShare / ((1 - this.onlineShare) * this.meanSessionMs);
    const rate = Math.max(1, this.offlineCount) * perDeviceRatePerMs;
    this.time.schedule(exponential(1 / rate, this.rng), () => {
      if (!this.churning) return;
      if (this.offlineCount > 0) this.startSession(this.offlineList[Math.floor(this.rng.nextFloat() * this.offlineCount)]!);
      this.scheduleNextConnect();
    });
  }

  startSession(device: number, ends = true): void {
    if (this.live[device] !== undefined) return;
    const p = this.population;
    const user = p.userOfDevice[device]!;
    const persisted = this.persisted.get(device);
    if (persisted) this.persisted.delete(device);
    const vd = new VirtualDevice(this, device, user, p.deviceNo(device), persisted);
    if (this.slowShare > 0 && this.rng.nextFloat() < this.slowShare) vd.slowReadBytesPerS = this.slowReadBytesPerS;
    this.live[device] = vd;
    this.removeOffline(device);
    const slot = this.slots.add(p.activity[user]! / p.devicesOf(user));
    this.slotOfDevice[device] = slot;
    if (slot >= this.slotDevice.length) {
      const grown = new Int32Array(this.slotDevice.length * 2);
      grown.set(this.slotDevice);
      this.slotDevice = grown;
    }
    this.slotDevice[slot] = device;
    vd.start();
    if (ends && this.onlineShare < 1) {
      const lengthMs = Math.max(1_000, sample(this.scenario.population.session_length_s, this.rng) * 1000);
      this.time.schedule(lengthMs, () => {
        if (this.churning && this.live[device] === vd) this.endSession(device);
      });
    }
  }

  endSession(device: number): void {
    const vd = this.live[device];
    if (!vd) return;
    vd.stop();
    const kept = vd.persist();
    if (kept) this.persisted.set(device, kept);
    this.live[device] = undefined;
    const slot = this.slotOfDevice[device]!;
    this.slots.remove(slot);
    this.slotOfDevice[device] = -1;
    this.addOffline(device);
  }

  private removeOffline(device: number): void {
    const pos = this.offlinePos[device]!;
    if (pos < 0 || pos >= this.offlineCount || this.offlineList[pos] !== device) return;
    const last = this.offlineList[this.offlineCount - 1]!;
    this.offlineList[pos] = last;
    this.offlinePos[last] = pos;
    this.offlineCount--;
    this.offlinePos[device] = -1;
  }

  private addOffline(device: number): void {
    this.offlineList[this.offlineCount] = device;
    this.offlinePos[device] = this.offlineCount;
    this.offlineCount++;
  }

  // ---------- sending ----------

  private scheduleNextSend(): void {
    const nowS = (this.time.nowMs() - this.runStartMs) / 1000;
    const rate = messagesPerSAt(this.scenario, nowS);
    // A zero rate (a curve at 0) is re-checked a second later.
    const gapMs = rate > 0 ? exponential(1000 / rate, this.rng) : 1000;
    this.time.schedule(gapMs, () => {
      if (!this.sending) return;
      if (rate > 0) this.sendOne();
      this.scheduleNextSend();
    });
  }

  private sendOne(): void {
    const slot = this.slots.draw(this.rng);
    if (slot < 0) return;
    const device = this.slotDevice[slot]!;
    const vd = this.live[device];
    if (!vd) return;
    const target = this.pickConversation(vd);
    if (!target) return;
    const { conversationId, sender } = target;
    const t = this.scenario.traffic;
    const plainBytes = Math.max(4, Math.min(4096, Math.round(sample(t.message_bytes, this.rng))));
    // An MLS sender's body is ciphertext: the plaintext plus its overhead (docs/e2ee.md cost model).
    const bytes = this.isEncryptedUser(sender.userIndex) ? plainBytes + this.scenario.sim.mls.overhead_bytes : plainBytes;
    const bodyLength = Math.ceil(bytes / 3) * 4;
    const offset = Math.floor(this.rng.nextFloat() * 64);
    const body = this.body.slice(offset, offset + bodyLength);
    this.collector.messageSent();
    if (t.media.share > 0 && this.rng.nextFloat() < t.media.share) {
      this.sendWithMedia(sender, conversationId, body, Math.max(1, Math.round(sample(t.media.bytes, this.rng))));
      return;
    }
    sender.send(conversationId, body);
  }

  /** Upload through a signed URL (the S3 tier, at the device's bandwidth), then send the message. */
  private sendWithMedia(vd: VirtualDevice, conversationId: string, body: string, sizeBytes: number): void {
    const limit = this.world.gateways[0]!.core.deps.limits.mediaBytesMax;
    const size = Math.min(sizeBytes, limit);
    vd.requestUpload(conversationId, size, (objectKey) => {
      if (objectKey === undefined) {
        // No upload URL (offline, storage down): the app sends the text alone.
        vd.send(conversationId, body);
        return;
      }
      const transferMs = (size / this.scenario.sim.media_upload_bytes_per_s) * 1000;
      this.time.schedule(transferMs, () => {
        this.world.tiers.s3
          .call(() => this.world.backends.blobs.put(objectKey, { sizeBytes: size, contentType: 'image/jpeg' }))
          .then(
            () => vd.send(conversationId, body, { objectKey, contentType: 'image/jpeg', sizeBytes: size }),
            () => vd.send(conversationId, body),
          );
      });
    });
  }

  private pickConversation(vd: VirtualDevice): { conversationId: string; sender: VirtualDevice } | undefined {
    const p = this.population;
    const t = this.scenario.traffic;
    if (p.groupCount > 0 && this.rng.nextFloat() < t.group_share) {
      const hotCount = p.groupCount - p.hotFirst;
      if (hotCount > 0) {
        const x = this.rng.nextFloat();
        for (let h = 0; h < hotCount; h++) {
          if (x < p.hotCumulativeShare[h]!) return this.hotGroupSender(p.hotFirst + h);
        }
      }
      const start = p.userGroupStart[vd.userIndex]!;
      const count = p.userGroupStart[vd.userIndex + 1]! - start;
      if (count > 0) {
        const g = p.userGroups[start + Math.floor(this.rng.nextFloat() * count)]!;
        const conversationId = p.groupConversation[g];
        if (conversationId) return { conversationId, sender: vd };
      }
    }
    if (p.users < 2) return undefined;
    // Frequent partners first: k ~ contacts × u², so low k are picked most.
    const u = this.rng.nextFloat();
    const k = Math.floor(p.contactCount * u * u);
    const other = p.contact(vd.userIndex, k);
    return { conversationId: directConversationId(vd.userId, `u${other}`), sender: vd };
  }

  /** A viral group's message comes from one of its members who is online. */
  private hotGroupSender(g: number): { conversationId: string; sender: VirtualDevice } | undefined {
    const p = this.population;
    const conversationId = p.groupConversation[g];
    if (!conversationId) return undefined;
    const start = p.groupStart[g]!;
    const size = p.groupSize(g);
    const offset = Math.floor(this.rng.nextFloat() * size);
    for (let i = 0; i < size; i++) {
      const user = p.groupMembers[start + ((offset + i) % size)]!;
      for (let d = p.firstDevice[user]!; d < p.firstDevice[user + 1]!; d++) {
        const vd = this.live[d];
        if (vd?.isConnected) return { conversationId, sender: vd };
      }
    }
    return undefined;
  }

  // ---------- DeviceHost ----------

  connect(device: VirtualDevice, attempt: number): SimConnection | undefined {
    const gateways = this.world.gateways;
    const first = (mixSeed(device.index, 'lb') + attempt) % gateways.length;
    for (let i = 0; i < gateways.length; i++) {
      const gw = gateways[(first + i) % gateways.length]!;
      if (!gw.isAlive || this.blockedGateways.has(gw.nodeId)) continue;
      return gw.open(this.link, device);
    }
    return undefined;
  }

  handshakeMs(): number {
    return 2 * this.link.oneWayMs();
  }

  async token(device: VirtualDevice): Promise<string> {
    return (await this.world.gateways[0]!.core.auth.issueToken({ userId: device.userId, deviceId: device.deviceId })).token;
  }

  record(event: HistoryEvent): void {
    this.options.record(event);
  }

  messageDelivered(device: VirtualDevice, event: ConversationEvent, via: 'live' | 'sync'): void {
    if (event.kind !== 'message') return;
    const now = this.time.nowMs();
    let latency: number | undefined;
    if (via === 'live') {
      const id = event.clientMessageId;
      const sentAt = Number(id.slice(id.lastIndexOf('.') + 1));
      if (Number.isFinite(sentAt)) latency = now - sentAt + this.cryptoChargeMs(Number(id.slice(0, id.indexOf('.'))));
    }
    this.collector.deliveryObserved(now, latency);
    const reads = this.scenario.traffic.reads;
    if (reads.share > 0 && this.rng.nextFloat() < reads.share) {
      const delayMs = sample(reads.delay_s, this.rng) * 1000;
      const seq: Seq = event.seq;
      this.time.schedule(delayMs, () => {
        if (this.live[device.index] === device) device.read(event.conversationId, seq);
      });
    }
  }

  messageAcked(device: VirtualDevice, send: PendingSend): void {
    const now = this.time.nowMs();
    const encryptMs = this.isEncryptedUser(device.userIndex) ? this.scenario.sim.mls.encrypt_us / 1000 : 0;
    this.collector.ackObserved(now, now - send.createdAtMs + encryptMs);
  }

  /**
   * Whether a user runs MLS (traffic.encrypted_share of them, chosen by a hash of the seed and the
   * user index, so every device agrees without shared state). Their messages are charged the
   * measured client crypto: encryption before the send, decryption at the recipient. Client CPU is
   * not a shared tier here, so the charge goes into the measured latencies rather than a queue.
   */
  private isEncryptedUser(userIndex: number): boolean {
    const share = this.scenario.traffic.encrypted_share;
    if (share <= 0) return false;
    let h = Math.imul(userIndex ^ this.scenario.seed, 0x9e3779b1) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    return h / 0x1_0000_0000 < share;
  }

  /** Encrypt + decrypt time of a message from this sender, in ms (0 for plaintext senders). */
  private cryptoChargeMs(senderUserIndex: number): number {
    if (!Number.isInteger(senderUserIndex) || !this.isEncryptedUser(senderUserIndex)) return 0;
    return (this.scenario.sim.mls.encrypt_us + this.scenario.sim.mls.decrypt_us) / 1000;
  }

  presenceSeen(_device: VirtualDevice, subjectUserId: string, online: boolean): void {
    if (online) return;
    const user = Number(subjectUserId.slice(1));
    const at = this.lastDisconnectMs[user];
    if (at !== undefined && at >= 0) this.collector.presenceStalenessMs.record(this.time.nowMs() - at);
  }

  connected(): void {
    this.connectedCount++;
  }

  disconnected(device: VirtualDevice): void {
    this.connectedCount--;
    this.lastDisconnectMs[device.userIndex] = this.time.nowMs();
  }

  sendRejected(_device: VirtualDevice, _send: PendingSend, code: string): void {
    this.collector.rejected++;
    this.collector.error(code as never);
  }

  presenceTargets(device: VirtualDevice): string[] {
    const n = Math.min(this.scenario.sim.clients.presence_watch_contacts, this.population.contactCount);
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(`u${this.population.contact(device.userIndex, k)}`);
    return out;
  }

  /** slow_consumer: a share of the online devices starts reading slowly; returns them. */
  slowDown(share: number): VirtualDevice[] {
    const slowed: VirtualDevice[] = [];
    for (const vd of this.live) {
      if (vd && this.rng.nextFloat() < share) {
        vd.setSlowRead(this.slowReadBytesPerS);
        slowed.push(vd);
      }
    }
    return slowed;
  }

  /** slow_consumer healed: every slow device reads normally again (also those that came online while it lasted). */
  healSlowReaders(): void {
    for (const vd of this.live) if (vd && vd.slowReadBytesPerS > 0) vd.setSlowRead(0);
  }

  // ---------- liveness ----------

  /**
   * True when every online device is connected, has nothing unsent or unsynced, and its inbox
   * holds nothing it has not observed. Stops at the first device that is not done.
   */
  async caughtUp(): Promise<{ done: boolean; waitingOn?: string }> {
    const inbox = this.world.backends.inbox;
    for (let d = 0; d < this.live.length; d++) {
      const vd = this.live[d];
      if (!vd) continue;
      if (!vd.isConnected) return { done: false, waitingOn: `${vd.userId}/${vd.deviceId} not connected` };
      if (vd.hasPendingSends) return { done: false, waitingOn: `${vd.userId}/${vd.deviceId} has unacknowledged sends` };
      if (vd.pendingSyncs > 0) return { done: false, waitingOn: `${vd.userId}/${vd.deviceId} is syncing` };
      const pending = await inbox.list({ userId: vd.userId, deviceId: vd.deviceId }, 50);
      for (const event of pending) {
        if ((vd.cursor(event.conversationId) ?? 0) < event.seq) {
          return { done: false, waitingOn: `${vd.userId}/${vd.deviceId} has seq ${event.seq} of ${event.conversationId} queued` };
        }
      }
    }
    return { done: true };
  }

  /** The devices online now (the quiesce set). */
  onlineDeviceList(): Array<{ userId: string; deviceId: string }> {
    const out: Array<{ userId: string; deviceId: string }> = [];
    for (const vd of this.live) if (vd?.isConnected) out.push({ userId: vd.userId, deviceId: vd.deviceId });
    return out;
  }

  stopAll(): void {
    for (let d = 0; d < this.live.length; d++) if (this.live[d]) this.endSession(d);
  }

  /** Live objects' rough count for memory figures. */
  get persistedCount(): number {
    return this.persisted.size;
  }
}
