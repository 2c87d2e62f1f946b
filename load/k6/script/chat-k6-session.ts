/*
 * The chat protocol (docs/protocol.md) as k6 speaks it: token acquisition for setup(), and one
 * iteration = one 1:1 message between two virtual devices, timed for ack and delivery.
 *
 * This file runs inside k6, not Node: it imports only k6 modules (typed by @types/k6) and nothing
 * from the project, because `npm run k6:export` copies it next to the exported script. The project's
 * tests import it too, through an adapter that implements those k6 modules on Node (load/k6/node-adapter/).
 *
 * WebSocket API: `k6/websockets` (the event-loop API that graduated from k6/experimental/websockets),
 * not the legacy `k6/ws`. `k6/ws` blocks the VU inside ws.connect() until that one socket closes, so
 * an iteration cannot hold the recipient's and the sender's sockets open at once; `k6/websockets`
 * lets one async iteration open both and await their frames.
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';

/** Metric names the exported script's thresholds refer to (they are a stable interface). */
export const ChatMetricNames = {
  deliverLatencyMs: 'chat_deliver_latency_ms',
  ackLatencyMs: 'chat_ack_latency_ms',
  errors: 'chat_errors',
  messagesSent: 'chat_messages_sent',
  messagesDelivered: 'chat_messages_delivered',
  messagesLost: 'chat_messages_lost',
} as const;

// Custom metrics must be created in k6's init context: module top level is init context.
const deliverLatencyMs = new Trend(ChatMetricNames.deliverLatencyMs, true);
const ackLatencyMs = new Trend(ChatMetricNames.ackLatencyMs, true);
/** true per failure (error frame, failed auth or connection, no answer in time), false per success. */
const errors = new Rate(ChatMetricNames.errors);
const messagesSent = new Counter(ChatMetricNames.messagesSent);
const messagesDelivered = new Counter(ChatMetricNames.messagesDelivered);
/** Messages acknowledged but not delivered within the message timeout (a liveness miss). */
const messagesLost = new Counter(ChatMetricNames.messagesLost);

const PROTOCOL_VERSION = 1;
const TOKEN_ATTEMPTS_MAX = 5;
const TOKEN_RETRY_PAUSE_S = 0.5;

/** A virtual device and the token it authenticates with. */
export interface ChatDevice {
  userId: string;
  deviceId: string;
  token: string;
}

/** What setup() hands every iteration. */
export interface ChatSetupData {
  devices: ChatDevice[];
  /** Epoch ms when setup finished: the arrival-rate scenario starts right after it. */
  trafficStartMs: number;
}

/** What the exporter takes from the scenario; every field can be overridden by an environment variable. */
export interface ChatScenarioTraffic {
  users: number;
  warmupMs: number;
  messageTimeoutMs: number;
  messageBytes: number;
  readShare: number;
  /** The scenario's population.contacts_per_user: each device writes to this many neighbours. */
  contactsPerUser: number;
}

export interface ChatSettings extends ChatScenarioTraffic {
  wsUrl: string;
  tokenUrl: string;
  runId: string;
}

/** Typed failure with a stable code; thrown from setup() so k6 stops before any traffic. */
export class ChatK6Error extends Error {
  constructor(
    readonly code: 'K6_TOKENS_UNAVAILABLE' | 'K6_TOKENS_INVALID' | 'K6_TOO_FEW_DEVICES',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ChatK6Error';
  }
}

const DEFAULT_WS_URL = 'ws://127.0.0.1:8080/ws';

/** The gateway's HTTP origin from its WebSocket URL (k6 has no URL global): ws://h:p/ws → http://h:p. */
export function httpOriginOf(wsUrl: string): string {
  return wsUrl.replace(/^ws(s?):\/\//, 'http$1://').replace(/^(https?:\/\/[^/]+).*$/, '$1');
}

function numberFromEnv(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isFinite(value) ? value : fallback;
}

/**
 * Settings from the environment, falling back to the scenario's values:
 * CHAT_WS_URL, CHAT_TOKEN_URL, CHAT_RUN_ID, CHAT_USERS, CHAT_WARMUP_MS, CHAT_MESSAGE_TIMEOUT_MS.
 */
export function chatSettingsFromEnv(traffic: ChatScenarioTraffic): ChatSettings {
  const wsUrl = __ENV.CHAT_WS_URL || DEFAULT_WS_URL;
  return {
    ...traffic,
    wsUrl,
    tokenUrl: __ENV.CHAT_TOKEN_URL || `${httpOriginOf(wsUrl)}/dev/token`,
    runId: __ENV.CHAT_RUN_ID || `k6-${Date.now().toString(36)}`,
    users: Math.max(2, Math.floor(numberFromEnv('CHAT_USERS', traffic.users))),
    warmupMs: numberFromEnv('CHAT_WARMUP_MS', traffic.warmupMs),
    messageTimeoutMs: numberFromEnv('CHAT_MESSAGE_TIMEOUT_MS', traffic.messageTimeoutMs),
  };
}

/**
 * Pre-issued tokens, when given: CHAT_TOKENS_FILE (read with open(), so call this from the init
 * context) or CHAT_TOKENS, each a JSON array of {userId, deviceId, token}. Empty when neither is set.
 */
export function loadPreIssuedDevices(): ChatDevice[] {
  const json = __ENV.CHAT_TOKENS_FILE ? open(__ENV.CHAT_TOKENS_FILE) : __ENV.CHAT_TOKENS;
  if (!json) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ChatK6Error('K6_TOKENS_INVALID', `pre-issued tokens are not JSON: ${String(error)}`);
  }
  if (!Array.isArray(parsed))
    throw new ChatK6Error('K6_TOKENS_INVALID', 'pre-issued tokens must be a JSON array of {userId, deviceId, token}');
  return parsed.map((entry: unknown, index) => {
    const device = entry as Partial<ChatDevice> | null;
    if (!device || typeof device.userId !== 'string' || typeof device.deviceId !== 'string' || typeof device.token !== 'string') {
      throw new ChatK6Error('K6_TOKENS_INVALID', `pre-issued token ${index} needs string userId, deviceId and token`);
    }
    return { userId: device.userId, deviceId: device.deviceId, token: device.token };
  });
}

/**
 * One token from the token endpoint: POST {userId, deviceId} → {token}, the contract of the
 * gateway's development endpoint `/dev/token`. The script never signs tokens itself, so it does not
 * care which token format the gateway verifies.
 */
function issueToken(tokenUrl: string, userId: string, deviceId: string): string {
  let lastProblem = '';
  for (let attempt = 1; attempt <= TOKEN_ATTEMPTS_MAX; attempt++) {
    const response = http.post(tokenUrl, JSON.stringify({ userId, deviceId }), { headers: { 'Content-Type': 'application/json' } });
    if (response.status === 200) {
      const token = (JSON.parse(String(response.body)) as { token?: unknown }).token;
      if (typeof token === 'string') return token;
      lastProblem = 'the answer has no token';
    } else {
      lastProblem = `HTTP ${response.status} ${String(response.body ?? '')}`;
    }
    // Only server-side trouble is worth a retry; a 4xx will answer the same again.
    if (response.status >= 400 && response.status < 500) break;
    sleep(TOKEN_RETRY_PAUSE_S);
  }
  throw new ChatK6Error('K6_TOKENS_UNAVAILABLE', `no token for ${userId}/${deviceId} from ${tokenUrl}: ${lastProblem}`);
}

/** setup(): the pre-issued devices, or one device per user with tokens from the token endpoint. */
export function setUpDevices(settings: ChatSettings, preIssued: ChatDevice[]): ChatSetupData {
  const devices: ChatDevice[] =
    preIssued.length > 0
      ? preIssued
      : Array.from({ length: settings.users }, (_, index) => {
          const userId = `${settings.runId}-u${index}`;
          return { userId, deviceId: 'k6', token: issueToken(settings.tokenUrl, userId, 'k6') };
        });
  if (devices.length < 2) throw new ChatK6Error('K6_TOO_FEW_DEVICES', `a 1:1 message needs two devices, got ${devices.length}`);
  return { devices, trafficStartMs: Date.now() };
}

/** 1:1 conversation ids name the two users sorted, so both sides compute the same id (protocol §3). */
export function directConversationId(userA: string, userB: string): string {
  return userA < userB ? `dm:${userA}:${userB}` : `dm:${userB}:${userA}`;
}

/** A base64 body of exactly `bytes` decoded bytes ("A" decodes to zero bits). */
export function bodyOfBytes(bytes: number): string {
  const whole = Math.floor(bytes / 3);
  const rest = bytes % 3;
  return 'A'.repeat(whole * 4) + (rest === 1 ? 'AA==' : rest === 2 ? 'AAA=' : '');
}

/** The frames this script reads; anything else is ignored, as the protocol asks of clients. */
interface ServerFrame {
  type: string;
  rid?: string;
  code?: string;
  inReplyTo?: string;
  clientMessageId?: string;
  queued?: boolean;
  event?: { kind?: string; conversationId?: string; seq?: number; clientMessageId?: string };
}

/** One authenticated connection of a device that acknowledges every event it receives. */
interface DeviceConnection {
  socket: WebSocket;
  /** Resolves on `welcome`, rejects on an error before it or a close. */
  welcomed: Promise<void>;
  onFrame(listener: (frame: ServerFrame, receivedAtMs: number) => void): void;
  close(): void;
}

function textOf(data: unknown): string | null {
  return typeof data === 'string' ? data : null;
}

function connectDevice(settings: ChatSettings, device: ChatDevice, readsMessageIds: Set<string>): DeviceConnection {
  const socket = new WebSocket(settings.wsUrl);
  const listeners: ((frame: ServerFrame, receivedAtMs: number) => void)[] = [];
  const ackedSeqByConversation = new Map<string, number>();
  let settleWelcome: { resolve: () => void; reject: (reason: Error) => void } | null = null;
  const welcomed = new Promise<void>((resolve, reject) => {
    settleWelcome = { resolve, reject };
  });
  const failWelcome = (reason: string) => {
    settleWelcome?.reject(new Error(`${device.userId}/${device.deviceId}: ${reason}`));
    settleWelcome = null;
  };

  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'auth', rid: 'auth', v: PROTOCOL_VERSION, token: device.token }));
  });
  socket.addEventListener('message', (message) => {
    const receivedAtMs = Date.now();
    const text = textOf((message as { data?: unknown }).data);
    if (text === null) return;
    const frame = JSON.parse(text) as ServerFrame;
    if (frame.type === 'welcome') {
      settleWelcome?.resolve();
      settleWelcome = null;
    } else if (frame.type === 'error' && settleWelcome) {
      failWelcome(`auth refused: ${frame.code ?? 'unknown error'}`);
    } else if (frame.type === 'event' && frame.event?.conversationId && typeof frame.event.seq === 'number') {
      // Ack (or read) every event so the device's inbox does not grow across iterations.
      const { conversationId, seq } = frame.event;
      if (seq > (ackedSeqByConversation.get(conversationId) ?? 0)) {
        ackedSeqByConversation.set(conversationId, seq);
        const reads = frame.event.clientMessageId !== undefined && readsMessageIds.has(frame.event.clientMessageId);
        socket.send(JSON.stringify({ type: reads ? 'read' : 'ack', conversationId, seq }));
      }
    }
    for (const listener of listeners) listener(frame, receivedAtMs);
  });
  socket.addEventListener('error', (event) => failWelcome(`socket error: ${(event as { error?: string }).error ?? 'unknown'}`));
  socket.addEventListener('close', () => failWelcome('closed before welcome'));

  return {
    socket,
    welcomed,
    onFrame: (listener) => listeners.push(listener),
    close: () => socket.close(1000),
  };
}

/** How one iteration's message fared; `check` reports these. */
export interface ChatIterationOutcome {
  connected: boolean;
  acked: boolean;
  delivered: boolean;
  errorCode: string | null;
}

function pickPair(settings: ChatSettings, devices: ChatDevice[]): [ChatDevice, ChatDevice] {
  const senderIndex = Math.floor(Math.random() * devices.length);
  const contacts = Math.min(settings.contactsPerUser, devices.length - 1);
  const recipientIndex = (senderIndex + 1 + Math.floor(Math.random() * contacts)) % devices.length;
  return [devices[senderIndex]!, devices[recipientIndex]!];
}

/**
 * One iteration: the recipient connects and authenticates, then the sender; the sender sends one
 * message; ack latency runs from the send to `sent` (or `queued`), deliver latency from the send to
 * the recipient's live `event`. Both sockets close once both are seen or the message timeout passes.
 */
export async function chatIteration(settings: ChatSettings, data: ChatSetupData): Promise<ChatIterationOutcome> {
  const [sender, recipient] = pickPair(settings, data.devices);
  const clientMessageId = `k6-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const reads = new Set<string>(Math.random() < settings.readShare ? [clientMessageId] : []);
  const outcome: ChatIterationOutcome = { connected: false, acked: false, delivered: false, errorCode: null };
  const recipientConnection = connectDevice(settings, recipient, reads);
  let senderConnection: DeviceConnection | null = null;
  try {
    await recipientConnection.welcomed;
    senderConnection = connectDevice(settings, sender, new Set());
    await senderConnection.welcomed;
    outcome.connected = true;
    await exchangeOneMessage(settings, data, senderConnection, recipientConnection, sender, recipient, clientMessageId, outcome);
  } catch {
    // Counted, not logged: at thousands of iterations per second a log line each would drown k6's output.
    outcome.errorCode = 'CONNECT_FAILED';
    errors.add(true, { stage: 'connect' });
  } finally {
    senderConnection?.close();
    recipientConnection.close();
  }
  check(outcome, {
    'devices authenticated': (o) => o.connected,
    'message acknowledged': (o) => o.acked,
    'message delivered': (o) => o.delivered,
  });
  return outcome;
}

function phaseTag(data: ChatSetupData, settings: ChatSettings, sentAtMs: number): { phase: string } {
  return { phase: sentAtMs - data.trafficStartMs < settings.warmupMs ? 'warmup' : 'steady' };
}

function exchangeOneMessage(
  settings: ChatSettings,
  data: ChatSetupData,
  senderConnection: DeviceConnection,
  recipientConnection: DeviceConnection,
  sender: ChatDevice,
  recipient: ChatDevice,
  clientMessageId: string,
  outcome: ChatIterationOutcome,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let sentAtMs = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (outcome.acked && !outcome.delivered) messagesLost.add(1);
      errors.add(!outcome.acked || outcome.errorCode !== null, { stage: 'send' });
      resolve();
    };
    const timer = setTimeout(finish, settings.messageTimeoutMs);

    senderConnection.onFrame((frame, receivedAtMs) => {
      const answersThisSend = frame.clientMessageId === clientMessageId || frame.rid === clientMessageId;
      if ((frame.type === 'sent' || frame.type === 'queued') && answersThisSend && !outcome.acked) {
        outcome.acked = true;
        ackLatencyMs.add(receivedAtMs - sentAtMs, phaseTag(data, settings, sentAtMs));
        if (outcome.delivered) finish();
      } else if (frame.type === 'error' && (frame.rid === clientMessageId || frame.inReplyTo === 'send')) {
        outcome.errorCode = frame.code ?? 'UNKNOWN';
        finish();
      }
    });
    recipientConnection.onFrame((frame, receivedAtMs) => {
      if (frame.type !== 'event' || frame.event?.clientMessageId !== clientMessageId || outcome.delivered) return;
      outcome.delivered = true;
      messagesDelivered.add(1);
      // Only live deliveries are timed, as in the load driver; a replay from the inbox is not.
      if (!frame.queued) deliverLatencyMs.add(receivedAtMs - sentAtMs, phaseTag(data, settings, sentAtMs));
      if (outcome.acked) finish();
    });

    sentAtMs = Date.now();
    senderConnection.socket.send(
      JSON.stringify({
        type: 'send',
        rid: clientMessageId,
        conversationId: directConversationId(sender.userId, recipient.userId),
        clientMessageId,
        body: bodyOfBytes(settings.messageBytes),
      }),
    );
    messagesSent.add(1);
  });
}
