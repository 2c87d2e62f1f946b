/**
 * End to end over real WebSockets: receipts are monotonic watermarks, and presence follows
 * connections and heartbeats, expiring after its TTL when a client vanishes without closing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { directConversationId, type PresenceInfo, type ReceiptInfo } from '../sdk/index.js';
import { E2E, waitUntil, type TestClient } from './support.js';

let t: E2E | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const devicesOf = (...clients: TestClient[]) => clients.map(({ userId, deviceId }) => ({ userId, deviceId }));

const nonDecreasing = (values: number[]) => values.every((v, i) => i === 0 || v >= values[i - 1]!);

describe('e2e: read receipts never go backwards', () => {
  it('mark read 5 then 3: the sender sees read up to 5 only, delivered receipts arrive too', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const receipts: ReceiptInfo[] = [];
    alice.client.on('receipt', (r) => receipts.push(r));

    for (let i = 1; i <= 5; i++) await alice.client.send(dm, `message ${i}`);
    await waitUntil(() => bob.client.getCursor(dm) === 5, 'bob to receive 5 messages');
    await waitUntil(() => receipts.some((r) => r.state === 'delivered' && r.upToSeq === 5), 'a delivered receipt up to 5');

    bob.client.markRead(dm, 5);
    await waitUntil(() => receipts.some((r) => r.state === 'read' && r.upToSeq === 5), 'a read receipt up to 5');
    bob.client.markRead(dm, 3);
    // A barrier: bob's ack of a later message is processed after his read of 3, so a receipt for
    // that read (there must be none) would have reached alice before this delivered receipt.
    const sixth = await alice.client.send(dm, 'message 6');
    await waitUntil(() => receipts.some((r) => r.state === 'delivered' && r.upToSeq === sixth.seq), 'a delivered receipt up to 6');

    const read = receipts.filter((r) => r.state === 'read').map((r) => r.upToSeq);
    const delivered = receipts.filter((r) => r.state === 'delivered').map((r) => r.upToSeq);
    expect(read).toEqual([5]);
    expect(nonDecreasing(delivered)).toBe(true);
    expect(delivered.at(-1)).toBe(6);
    expect(receipts.every((r) => r.userId === 'bob' && r.deviceId === 'phone' && r.conversationId === dm)).toBe(true);
    // The pull view agrees: read 5 (not 3), delivered 6.
    const state = await alice.client.receipts(dm);
    expect(state).toContainEqual({ userId: 'bob', deviceId: 'phone', deliveredSeq: 6, readSeq: 5 });

    t.quiesce(devicesOf(alice, bob));
    t.expectNoViolations();
  });
});

describe('e2e: presence', () => {
  const TTL_MS = 300;
  const SLACK_MS = 700;

  it('a client that stops heartbeating without closing reads as offline within the TTL; connecting reads as online', async () => {
    t = await E2E.start({
      limits: { presenceTtlMs: TTL_MS, registryTtlMs: TTL_MS, heartbeatTimeoutMs: 10_000, heartbeatIntervalMs: 50 },
    });
    // SDK clients heartbeat every 50 ms (from welcome), well within the TTL.
    const alice = await t.connect('alice', 'phone', { idleTimeoutMs: 5_000 });
    const seen: Array<PresenceInfo & { atMs: number }> = [];
    alice.client.on('presence', (p) => seen.push({ ...p, atMs: Date.now() }));
    await alice.client.subscribePresence(['bob']);
    expect(seen.map((p) => p.online)).toEqual([false]);

    // Bob authenticates on a bare socket, shows he read the welcome with one heartbeat (only then
    // is he shown online), and then says nothing more: no heartbeat, no close.
    const zombie = await t.raw('bob', 'phone');
    zombie.sendFrame({ type: 'heartbeat' });
    const silentFromMs = Date.now();
    await waitUntil(() => seen.some((p) => p.online), 'alice to see bob online');
    zombie.noteVanished(); // from here on, as far as the client is concerned, it is gone

    await waitUntil(() => seen.at(-1)?.online === false, 'alice to see bob offline after the TTL', TTL_MS + SLACK_MS);
    const offlineAfterMs = seen.at(-1)!.atMs - silentFromMs;
    expect(offlineAfterMs).toBeGreaterThanOrEqual(TTL_MS - 50);
    expect(offlineAfterMs).toBeLessThanOrEqual(TTL_MS + SLACK_MS);
    expect(seen.at(-1)!.lastSeenMs).toBeGreaterThan(0);
    // The server did not close the silent connection (its zombie timeout is much longer).
    expect(zombie.closeCode).toBeUndefined();

    // Bob comes back properly: online again, and heartbeats keep him online past several TTLs.
    const bob = await t.connect('bob', 'phone', { idleTimeoutMs: 5_000 });
    await waitUntil(() => seen.at(-1)?.online === true, 'alice to see bob online again');
    const onlineCount = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));
    expect(seen.length).toBe(onlineCount);

    // A clean close reads as offline right away, not after the TTL.
    const closedAtMs = Date.now();
    bob.client.close();
    await waitUntil(() => seen.at(-1)?.online === false, 'alice to see bob offline after he closed', TTL_MS);
    expect(seen.at(-1)!.atMs - closedAtMs).toBeLessThan(TTL_MS);
    expect(seen.map((p) => p.online)).toEqual([false, true, false, true, false]);

    t.expectNoViolations({ presenceTtlMs: TTL_MS, presenceGraceMs: 250 });
  });
});
