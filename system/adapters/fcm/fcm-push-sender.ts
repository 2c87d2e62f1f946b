/**
 * PushSender on Firebase Cloud Messaging (HTTP v1 API) through firebase-admin 13:
 * `getMessaging(app).send(message)`, one request per notification, outcomes mapped the way the
 * FCM documentation says to treat them. See docs/media-and-push.md for the mapping table.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import { applicationDefault, deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Messaging, type TokenMessage } from 'firebase-admin/messaging';
import type { Clock } from '../../ports/clock.js';
import type { PushNotification, PushResult, PushSender } from '../../ports/push-sender.js';
import { systemClock } from '../node/system-clock.js';

export interface FcmPushSenderOptions {
  /** The Firebase project (FCM_PROJECT_ID); the URL is /v1/projects/{projectId}/messages:send. */
  projectId: string;
  /** Default: applicationDefault(), i.e. the service account file named by GOOGLE_APPLICATION_CREDENTIALS. */
  credential?: Credential;
  /** Agent for the HTTPS requests to FCM (tests route them to a local fake). */
  httpAgent?: Agent;
  /**
   * Keep firebase-admin's own retries (up to 4 more tries of a 503 or a reset connection, sleeping
   * on real timers inside send). Default false: the core's PushNotifier owns retrying, on its
   * Clock, so one send() is one HTTP request.
   */
  sdkRetries?: boolean;
  /** Delay answered for QUOTA_EXCEEDED without a Retry-After (FCM asks for at least a minute). Default 60 000. */
  quotaRetryAfterMs?: number;
  /** Reads "now" to turn an HTTP-date Retry-After into a delay. Default systemClock. */
  clock?: Clock;
}

/** The settings from the production environment variables. */
export function fcmOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): FcmPushSenderOptions {
  const projectId = env.FCM_PROJECT_ID;
  if (!projectId) throw new Error('FCM_PROJECT_ID is not set');
  if (!env.GOOGLE_APPLICATION_CREDENTIALS) throw new Error('GOOGLE_APPLICATION_CREDENTIALS is not set (path of the service account JSON)');
  return { projectId };
}

/** FCM's limit on the data payload (keys and values) is 4096 bytes; leave room for the keys and count. */
const CONVERSATIONS_BYTES_MAX = 3_800;
/** APNs refuses an apns-collapse-id longer than 64 bytes. */
const APNS_COLLAPSE_ID_BYTES_MAX = 64;

/** What the transport saw of the last HTTP answer within one send (see hookTransport). */
interface TransportProbe {
  status?: number;
  retryAfter?: string;
}

const probes = new AsyncLocalStorage<TransportProbe>();

export class FcmPushSender implements PushSender {
  readonly app: App;
  private readonly messaging: Messaging;
  private readonly clock: Clock;
  private readonly quotaRetryAfterMs: number;
  /** Whether the SDK internals were found (status and Retry-After observed; retries as configured). */
  readonly transportHooked: boolean;

  constructor(options: FcmPushSenderOptions) {
    this.clock = options.clock ?? systemClock;
    this.quotaRetryAfterMs = options.quotaRetryAfterMs ?? 60_000;
    // A unique app name per sender, so several (tests, or one per project) coexist in a process.
    this.app = initializeApp(
      {
        projectId: options.projectId,
        credential: options.credential ?? applicationDefault(),
        ...(options.httpAgent ? { httpAgent: options.httpAgent } : {}),
      },
      `fcm-push-sender-${randomUUID()}`,
    );
    this.messaging = getMessaging(this.app);
    // send() always uses the SDK's HTTP/1.1 client, which honours httpAgent; only sendEach() and
    // sendEachForMulticast() default to HTTP/2, which ignores it. So enableLegacyHttpTransport()
    // is not needed here.
    this.transportHooked = hookTransport(this.messaging, options.sdkRetries ?? false);
  }

  async send(notification: PushNotification): Promise<PushResult> {
    // A blank token can never be delivered to; FCM would answer INVALID_ARGUMENT for it.
    if (notification.token.trim() === '') return { outcome: 'unregistered' };
    const probe: TransportProbe = {};
    try {
      await probes.run(probe, () => this.messaging.send(fcmMessage(notification)));
      return { outcome: 'sent' };
    } catch (error) {
      return classifyFcmError(error, {
        status: probe.status,
        retryAfterMs: parseRetryAfter(probe.retryAfter, this.clock.nowMs()),
        quotaRetryAfterMs: this.quotaRetryAfterMs,
      });
    }
  }

  /** Releases the Firebase app (and its token refresh timer). */
  async close(): Promise<void> {
    await deleteApp(this.app);
  }
}

/** The FCM v1 message for a notification: a data message that wakes the app, collapsing per key. */
export function fcmMessage(notification: PushNotification): TokenMessage {
  return {
    token: notification.token,
    data: {
      count: String(notification.messageCount),
      conversations: JSON.stringify(fitConversations(notification.conversationIds)),
    },
    android: { collapseKey: notification.collapseKey, priority: 'high' },
    apns: {
      headers: {
        'apns-collapse-id': apnsCollapseId(notification.collapseKey),
        // A data-only wake-up: the app fetches its inbox and shows what it decrypts itself.
        'apns-push-type': 'background',
        'apns-priority': '5',
      },
      payload: { aps: { contentAvailable: true } },
    },
  };
}

/** As many conversation ids as fit FCM's data limit (the app syncs all of them anyway). */
function fitConversations(ids: readonly string[]): string[] {
  const kept: string[] = [];
  let bytes = 2;
  for (const id of ids) {
    const more = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (bytes + more > CONVERSATIONS_BYTES_MAX) break;
    kept.push(id);
    bytes += more;
  }
  return kept;
}

/** The collapse key itself when it fits APNs' 64 bytes, else a stable digest of it. */
export function apnsCollapseId(collapseKey: string): string {
  if (Buffer.byteLength(collapseKey) <= APNS_COLLAPSE_ID_BYTES_MAX) return collapseKey;
  return createHash('sha256').update(collapseKey).digest('base64url');
}

/** Retry-After as delay-seconds or an HTTP-date, in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const atMs = Date.parse(trimmed);
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, atMs - nowMs);
}

/** firebase-admin error codes (FirebaseMessagingError / FirebaseAppError) by the outcome they mean. */
const UNREGISTERED_CODES = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);
const QUOTA_CODES = new Set(['messaging/message-rate-exceeded', 'messaging/device-message-rate-exceeded']);
const RETRY_CODES = new Set(['messaging/server-unavailable', 'messaging/internal-error', 'app/network-error', 'app/network-timeout']);

/**
 * Maps a failed send to a PushResult, following FCM's error documentation:
 * - UNREGISTERED (404): the token is dead → unregistered.
 * - INVALID_ARGUMENT (400) whose message names the registration token → unregistered (FCM: "the
 *   registration token is not a valid FCM registration token"; safe to delete since our payload is
 *   well-formed by construction); any other INVALID_ARGUMENT is our bug → failed.
 * - QUOTA_EXCEEDED (429) → retry after Retry-After, else after quotaRetryAfterMs.
 * - UNAVAILABLE (503), INTERNAL (500), other 5xx, timeouts and dropped connections → retry
 *   (after Retry-After when the answer carried one).
 * - Everything else (SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR, credentials, ...) → failed.
 */
export function classifyFcmError(
  error: unknown,
  seen: { status?: number; retryAfterMs?: number; quotaRetryAfterMs?: number } = {},
): PushResult {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'unknown';
  const message = error instanceof Error ? error.message : String(error);
  const retry = (fallbackMs?: number): PushResult => {
    const retryAfterMs = seen.retryAfterMs ?? fallbackMs;
    return retryAfterMs === undefined ? { outcome: 'retry' } : { outcome: 'retry', retryAfterMs };
  };
  if (UNREGISTERED_CODES.has(code)) return { outcome: 'unregistered' };
  if (code === 'messaging/invalid-argument' && /registration token/i.test(message)) return { outcome: 'unregistered' };
  if (QUOTA_CODES.has(code) || seen.status === 429) return retry(seen.quotaRetryAfterMs ?? 60_000);
  if (RETRY_CODES.has(code) || (seen.status !== undefined && seen.status >= 500)) return retry();
  return { outcome: 'failed', reason: `${code}: ${message}` };
}

/** The parts of firebase-admin's internal HTTP client this adapter touches. */
interface SdkHttpClient {
  send(config: unknown): Promise<unknown>;
  retry?: unknown;
}

/**
 * firebase-admin keeps the HTTP answer (status, Retry-After) out of the errors it throws, and
 * retries 503s itself on real timers. Its public API offers neither, so this reaches the
 * messaging service's HTTP/1.1 client (firebase-admin 13: `messagingRequestHandler.httpClient`)
 * and (1) notes each error answer's status and Retry-After in the probe of the send that made
 * it (AsyncLocalStorage, so concurrent sends do not mix), (2) turns the SDK's retries off unless
 * asked to keep them. Answers false, changing nothing, when the internals are not where
 * expected (a future SDK): sends still work, Retry-After is then not seen, and the tests (which
 * assert `transportHooked`) fail so the upgrade gets looked at.
 */
function hookTransport(messaging: Messaging, sdkRetries: boolean): boolean {
  const handler = (messaging as unknown as { messagingRequestHandler?: { httpClient?: SdkHttpClient } }).messagingRequestHandler;
  const client = handler?.httpClient;
  if (!client || typeof client.send !== 'function' || !('retry' in client)) return false;
  if (!sdkRetries) client.retry = undefined;
  const send = client.send.bind(client);
  client.send = (config: unknown) =>
    send(config).catch((error: unknown) => {
      const probe = probes.getStore();
      const response = (error as { response?: { status?: unknown; headers?: Record<string, unknown> } })?.response;
      if (probe && response) {
        if (typeof response.status === 'number') probe.status = response.status;
        const retryAfter = response.headers?.['retry-after'];
        if (typeof retryAfter === 'string') probe.retryAfter = retryAfter;
      }
      throw error;
    });
  return true;
}
