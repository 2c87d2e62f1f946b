/**
 * The FCM PushSender through firebase-admin 13 against a local fake of the FCM HTTP v1 API
 * (fake-fcm-server.ts): nothing here reaches Google. The Firebase app gets an https.Agent that
 * connects every request to the fake and a credential with a fixed fake access token.
 */
import { connect } from 'node:tls';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultLimits } from '../../core/limits.js';
import { directConversationId, groupConversationId, type ConversationId } from '../../core/ids.js';
import { pushSenderContract } from '../../ports/contracts/index.js';
import { uniqueDevice, uniqueDirectId, uniqueHex } from '../../ports/contracts/support.js';
import { noopMetrics } from '../../ports/metrics.js';
import type { PushNotification, PushResult, PushSender } from '../../ports/push-sender.js';
import { PushNotifier } from '../../services/push-notifier.js';
import { MemoryDirectoryStore } from '../memory/memory-directory-store.js';
import { ManualClock } from '../virtual/manual-clock.js';
import { FAKE_ACCESS_TOKEN, FakeFcmServer, type FakeFcmAnswer, type FakeFcmRequest } from './fake-fcm-server.js';
import { FcmPushSender, apnsCollapseId, classifyFcmError, parseRetryAfter, type FcmPushSenderOptions } from './fcm-push-sender.js';

const PROJECT = 'chat-test-project';

function senderFor(fake: FakeFcmServer, options: Partial<FcmPushSenderOptions> = {}): FcmPushSender {
  return new FcmPushSender({ projectId: PROJECT, credential: fake.credential(), httpAgent: fake.httpAgent(), ...options });
}

function notification(token: string, fields: Partial<PushNotification> = {}): PushNotification {
  const conversationId = uniqueDirectId();
  return {
    device: uniqueDevice(),
    token,
    collapseKey: `chat:${uniqueHex()}`,
    messageCount: 1,
    conversationIds: [conversationId],
    ...fields,
  };
}

function token(): string {
  return `tok-${uniqueHex()}`;
}

/** The notification as FCM received it (the device is not in an FCM message: the token addresses it). */
function fromRequest(request: FakeFcmRequest, device: PushNotification['device'] | undefined): Partial<PushNotification> {
  const message = request.body.message ?? {};
  return {
    device,
    token: message.token,
    collapseKey: message.android?.collapse_key,
    messageCount: Number(message.data?.count),
    conversationIds: JSON.parse(message.data?.conversations ?? '[]') as ConversationId[],
  };
}

pushSenderContract('FcmPushSender (fake FCM v1)', async () => {
  const fake = await FakeFcmServer.start();
  const sender = senderFor(fake);
  fake.unregister('uninstalled-token');
  // Records what the core asked for, to give back the device (FCM messages carry only the token).
  const asked = new Map<string, PushNotification>();
  const recording: PushSender = {
    send: (n) => {
      asked.set(n.collapseKey, n);
      return sender.send(n);
    },
  };
  return {
    sender: recording,
    token: 'live-token',
    unregisteredToken: 'uninstalled-token',
    received: async () =>
      fake.delivered().map((r) => {
        const sent = asked.get(r.body.message?.android?.collapse_key ?? '');
        return fromRequest(r, sent?.device) as PushNotification;
      }),
    cleanup: async () => {
      await sender.close();
      await fake.close();
    },
  };
});

/** A fake FCM server and a sender pointed at it, for the whole describe block. */
function useFakeFcm(ready: (fake: FakeFcmServer, sender: FcmPushSender) => void): void {
  let fake: FakeFcmServer | undefined;
  let sender: FcmPushSender | undefined;
  beforeAll(async () => {
    fake = await FakeFcmServer.start();
    sender = senderFor(fake);
    ready(fake, sender);
  });
  afterAll(async () => {
    await sender?.close();
    await fake?.close();
  });
}

describe('FcmPushSender against the fake FCM', () => {
  let fake: FakeFcmServer;
  let sender: FcmPushSender;
  useFakeFcm((f, sd) => {
    fake = f;
    sender = sd;
  });

  it('reaches the SDK internals it relies on (status, Retry-After, retries off)', () => {
    expect(sender.transportHooked).toBe(true);
  });

  it('FCM receives the token, collapse key, priority and data, with the access token', async () => {
    const t = token();
    const group = groupConversationId(uniqueHex());
    const direct = directConversationId('alice', 'bob');
    const sent = notification(t, { messageCount: 7, conversationIds: [group, direct], collapseKey: 'chat:bob/phone' });
    expect(await sender.send(sent)).toEqual({ outcome: 'sent' });
    const [request, ...more] = fake.requestsFor(t);
    expect(more).toEqual([]);
    expect(request?.path).toBe(`/v1/projects/${PROJECT}/messages:send`);
    expect(request?.authorization).toBe(`Bearer ${FAKE_ACCESS_TOKEN}`);
    expect(request?.body.message).toEqual({
      token: t,
      data: { count: '7', conversations: JSON.stringify([group, direct]) },
      android: { collapse_key: 'chat:bob/phone', priority: 'high' },
      apns: {
        headers: { 'apns-collapse-id': 'chat:bob/phone', 'apns-push-type': 'background', 'apns-priority': '5' },
        payload: { aps: { 'content-available': 1 } },
      },
    });
    expect(request?.body.validate_only).toBeUndefined();
  });

  it('a collapse key longer than APNs allows becomes a stable 43-character digest for apns-collapse-id', async () => {
    const t = token();
    const long = `chat:${'u'.repeat(80)}/phone`;
    await sender.send(notification(t, { collapseKey: long }));
    const message = fake.requestsFor(t)[0]?.body.message;
    expect(message?.android?.collapse_key).toBe(long);
    expect(message?.apns?.headers?.['apns-collapse-id']).toBe(apnsCollapseId(long));
    expect(apnsCollapseId(long)).toHaveLength(43);
  });

  const cases: Array<[string, FakeFcmAnswer, PushResult | ((r: PushResult) => void)]> = [
    ['200', { kind: 'ok' }, { outcome: 'sent' }],
    ['404 UNREGISTERED', { kind: 'unregistered' }, { outcome: 'unregistered' }],
    ['400 INVALID_ARGUMENT for the token', { kind: 'invalid-token' }, { outcome: 'unregistered' }],
    [
      '400 INVALID_ARGUMENT for the message',
      { kind: 'invalid-argument' },
      (r) => expect(r).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('messaging/invalid-argument') }),
    ],
    ['429 QUOTA_EXCEEDED with Retry-After', { kind: 'quota-exceeded', retryAfter: '30' }, { outcome: 'retry', retryAfterMs: 30_000 }],
    [
      '429 QUOTA_EXCEEDED without Retry-After (FCM: wait at least a minute)',
      { kind: 'quota-exceeded' },
      { outcome: 'retry', retryAfterMs: 60_000 },
    ],
    ['503 UNAVAILABLE with Retry-After', { kind: 'unavailable', retryAfter: '7' }, { outcome: 'retry', retryAfterMs: 7_000 }],
    ['503 UNAVAILABLE without Retry-After', { kind: 'unavailable' }, { outcome: 'retry' }],
    ['500 INTERNAL', { kind: 'internal' }, { outcome: 'retry' }],
    ['502 from the front end (HTML)', { kind: 'raw', status: 502, body: '<html>Error 502 (Server Error)!!1</html>' }, { outcome: 'retry' }],
    [
      '403 SENDER_ID_MISMATCH',
      { kind: 'sender-id-mismatch' },
      (r) => expect(r).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('mismatched-credential') }),
    ],
    [
      '401 THIRD_PARTY_AUTH_ERROR',
      { kind: 'third-party-auth-error' },
      (r) => expect(r).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('third-party-auth-error') }),
    ],
  ];

  it.each(cases)('maps %s', async (_label, answer, expected) => {
    const t = token();
    fake.script(t, answer);
    const result = await sender.send(notification(t));
    if (typeof expected === 'function') expected(result);
    else expect(result).toEqual(expected);
    // One HTTP request per send: firebase-admin's own retries are off.
    expect(fake.requestsFor(t)).toHaveLength(1);
  });

  it('a Retry-After HTTP-date becomes the delay until that time', async () => {
    const t = token();
    fake.script(t, { kind: 'unavailable', retryAfter: new Date(Date.now() + 120_000).toUTCString() });
    const result = await sender.send(notification(t));
    expect(result.outcome).toBe('retry');
    const delay = result.outcome === 'retry' ? (result.retryAfterMs ?? -1) : -1;
    expect(delay).toBeGreaterThan(115_000);
    expect(delay).toBeLessThanOrEqual(120_000);
  });

  it('a blank token answers unregistered without asking FCM', async () => {
    const before = fake.requests.length;
    expect(await sender.send(notification('  '))).toEqual({ outcome: 'unregistered' });
    expect(fake.requests.length).toBe(before);
  });

  it('concurrent sends with different answers keep their own status and Retry-After', async () => {
    const tokens = [token(), token(), token()];
    fake.script(tokens[0] ?? '', { kind: 'quota-exceeded', retryAfter: '11' });
    fake.script(tokens[1] ?? '', { kind: 'unavailable', retryAfter: '22' });
    const results = await Promise.all(tokens.map((t) => sender.send(notification(t))));
    expect(results).toEqual([{ outcome: 'retry', retryAfterMs: 11_000 }, { outcome: 'retry', retryAfterMs: 22_000 }, { outcome: 'sent' }]);
  });

  it('with sdkRetries the SDK absorbs a 503 itself (two requests, one send)', async () => {
    const retrying = senderFor(fake, { sdkRetries: true });
    try {
      const t = token();
      fake.script(t, { kind: 'unavailable' });
      expect(await retrying.send(notification(t))).toEqual({ outcome: 'sent' });
      expect(fake.requestsFor(t).map((r) => r.status)).toEqual([503, 200]);
    } finally {
      await retrying.close();
    }
  });

  it('several senders coexist, each with its own app and project', async () => {
    const other = senderFor(fake, { projectId: 'second-project' });
    try {
      expect(other.app.name).not.toBe(sender.app.name);
      const [a, b] = [token(), token()];
      await Promise.all([sender.send(notification(a)), other.send(notification(b))]);
      expect(fake.requestsFor(a)[0]?.projectId).toBe(PROJECT);
      expect(fake.requestsFor(b)[0]?.projectId).toBe('second-project');
    } finally {
      await other.close();
    }
  });

  it('FCM unreachable (connection refused) answers retry, quickly', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    class ToClosedPort extends Agent {
      override createConnection() {
        return connect({ host: '127.0.0.1', port, servername: 'fcm.googleapis.com' });
      }
    }
    const agent = new ToClosedPort();
    const unreachable = new FcmPushSender({ projectId: PROJECT, credential: fake.credential(), httpAgent: agent });
    try {
      const started = performance.now();
      expect(await unreachable.send(notification(token()))).toEqual({ outcome: 'retry' });
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await unreachable.close();
      agent.destroy();
    }
  });
});

describe('classifyFcmError and parseRetryAfter', () => {
  const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it('maps SDK error codes without an HTTP answer', () => {
    expect(classifyFcmError(err('messaging/registration-token-not-registered'))).toEqual({ outcome: 'unregistered' });
    expect(classifyFcmError(err('messaging/invalid-registration-token'))).toEqual({ outcome: 'unregistered' });
    expect(classifyFcmError(err('app/network-timeout'))).toEqual({ outcome: 'retry' });
    expect(classifyFcmError(err('app/invalid-credential', 'no token'))).toEqual({
      outcome: 'failed',
      reason: 'app/invalid-credential: no token',
    });
    expect(classifyFcmError(new Error('boom'))).toEqual({ outcome: 'failed', reason: 'unknown: boom' });
  });

  it('reads Retry-After as seconds or an HTTP-date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('FcmPushSender with the core PushNotifier', () => {
  let fake: FakeFcmServer;
  let sender: FcmPushSender;
  useFakeFcm((f, sd) => {
    fake = f;
    sender = sd;
  });

  async function world(pushToken: string) {
    const clock = new ManualClock();
    const directory = new MemoryDirectoryStore();
    const device = uniqueDevice();
    await directory.linkDevice(device, clock.nowMs(), 5);
    await directory.setPushToken(device, pushToken);
    const outcomes: string[] = [];
    const metrics = { ...noopMetrics, pushSent: (outcome: string) => outcomes.push(outcome) };
    const notifier = new PushNotifier({ clock, push: sender, directory, metrics, limits: defaultLimits });
    return { clock, directory, device, outcomes, notifier };
  }

  it('an unregistered token is removed from the directory', async () => {
    const t = token();
    fake.unregister(t);
    const { directory, device, outcomes, notifier } = await world(t);
    notifier.notify(device, t, uniqueDirectId());
    await vi.waitFor(() => expect(outcomes).toEqual(['unregistered']), { timeout: 5_000, interval: 10 });
    await vi.waitFor(async () => expect((await directory.getDevice(device))?.pushToken).toBeUndefined(), { timeout: 5_000, interval: 10 });
    expect(fake.requestsFor(t)).toHaveLength(1);
  });

  it('a 503 is retried with exponential backoff on the clock until it succeeds', async () => {
    const t = token();
    fake.script(t, { kind: 'unavailable' }, { kind: 'unavailable' });
    const { clock, directory, device, outcomes, notifier } = await world(t);
    const atMs: number[] = [];
    fake.onRequest = (r) => {
      if (r.body.message?.token === t) atMs.push(clock.nowMs());
    };
    try {
      const start = clock.nowMs();
      notifier.notify(device, t, uniqueDirectId());
      await vi.waitFor(() => expect(outcomes).toEqual(['retry']), { timeout: 5_000, interval: 10 });
      await clock.advance(999);
      expect(fake.requestsFor(t)).toHaveLength(1); // not before the backoff
      await clock.advance(1);
      await vi.waitFor(() => expect(outcomes).toEqual(['retry', 'retry']), { timeout: 5_000, interval: 10 });
      await clock.advance(2_000);
      await vi.waitFor(() => expect(outcomes).toEqual(['retry', 'retry', 'sent']), { timeout: 5_000, interval: 10 });
      expect(atMs.map((ms) => ms - start)).toEqual([0, 1_000, 3_000]);
      expect(fake.requestsFor(t).map((r) => r.status)).toEqual([503, 503, 200]);
      expect((await directory.getDevice(device))?.pushToken).toBe(t); // kept
    } finally {
      fake.onRequest = undefined;
    }
  });

  it("a 429's Retry-After sets the PushNotifier's delay", async () => {
    const t = token();
    fake.script(t, { kind: 'quota-exceeded', retryAfter: '30' });
    const { clock, device, outcomes, notifier } = await world(t);
    notifier.notify(device, t, uniqueDirectId());
    await vi.waitFor(() => expect(outcomes).toEqual(['retry']), { timeout: 5_000, interval: 10 });
    await clock.advance(29_999);
    expect(fake.requestsFor(t)).toHaveLength(1);
    await clock.advance(1);
    await vi.waitFor(() => expect(outcomes).toEqual(['retry', 'sent']), { timeout: 5_000, interval: 10 });
  });
});
