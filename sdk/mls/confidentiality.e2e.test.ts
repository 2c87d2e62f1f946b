/**
 * Confidentiality in the embedded world: after an encrypted run (1:1, group, add/remove, a new
 * device, media), no plaintext marker appears anywhere in the server's stores, its media store,
 * its push records or its logs. A control message sent unencrypted shows the scan finds what is there.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { directConversationId } from '../../system/core/ids.js';
import { E2E } from '../../e2e/support.js';
import { PlaintextScanner } from '../../system/testing/plaintext-scan.js';
import { RecordingLogger } from '../../system/testing/in-process-client.js';
import { confidentialityScenario, mlsDevice } from './testing.js';

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

describe('confidentiality (embedded stores and logs)', () => {
  it('the server holds no plaintext of encrypted conversations', async () => {
    const log = new RecordingLogger();
    e2e = await E2E.start({ log });
    const t = e2e;
    const nonce = randomBytes(6).toString('hex');
    const markers = await confidentialityScenario((userId, deviceId) => mlsDevice(t, userId, deviceId), nonce);

    // Control: the same scan finds a marker sent without encryption.
    const control = `PLAINTEXT-${nonce}-control`;
    const plain = await t.connect('erin', 'phone');
    await plain.client.send(directConversationId('alice', 'erin'), control);

    const world = t.server.world;
    const scanner = new PlaintextScanner([...markers, control]);
    scanner.scanValue(world.stores, 'stores');
    scanner.scanValue(world.blobs, 'blobs');
    scanner.scanValue(world.push, 'push');
    scanner.scanValue(log.entries, 'log');
    expect(scanner.scanned).toBeGreaterThan(100);
    expect(scanner.hits.filter((h) => h.marker !== control)).toEqual([]);
    expect(scanner.hits.some((h) => h.marker === control && h.path.startsWith('stores.messages'))).toBe(true);
  });
});
