import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readScenario } from '../scenarios/format/index.js';
import type { MemoryMessageStore } from '../system/adapters/memory/memory-message-store.js';
import { PlaintextScanner } from '../system/testing/plaintext-scan.js';
import { startEmbeddedServer, type EmbeddedServer } from '../system/worlds/embedded-server.js';
import type { EncryptionReport } from './encryption.js';
import { planEncryption } from './encryption-plan.js';
import { buildPlan } from './plan.js';
import { runLoad } from './run-load.js';

/*
 * A load run with an encrypted share against the embedded system, here in-process so the test can
 * read its message store: the run passes (exit 0), encrypted users really send MLS messages that
 * their peers decrypt (no failure), and no body of an encrypted conversation holds the plaintext
 * marker every body carries — while plaintext conversations do (the scan finds what is there).
 */

const RUN_ID = 'enc';
let server: EmbeddedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('load run with traffic.encrypted_share', () => {
  it('encrypts end to end, decrypts everything, and the server stores no plaintext of encrypted conversations', async () => {
    const scenario = await readScenario(new URL('fixtures/ci-encrypted.yaml', import.meta.url).pathname);
    const started = await startEmbeddedServer({ prometheus: false });
    server = started;
    const marker = `PLAINTEXT-${randomBytes(6).toString('hex')}`;
    const result = await runLoad(scenario, {
      targets: [started.wsUrl],
      tokenFor: async (userId, deviceId) => (await started.world.core.auth.issueToken({ userId, deviceId })).token,
      runId: RUN_ID,
      plaintextMarker: marker,
    });
    const summary = result.summary;
    const encryption = summary.encryption as EncryptionReport;
    expect(summary.invariants, JSON.stringify(summary.invariants.witnesses)).toMatchObject({ violations: 0 });
    expect(result.exitCode).toBe(0);
    expect(summary.invariants.checked).toContain('decryption');
    expect(encryption).toMatchObject({ users: 12, decrypt_failures: 0, founding_failures: 0 });
    expect(encryption.conversations.groups).toBeGreaterThan(0);
    expect(encryption.messages_sent).toBeGreaterThan(0);
    expect(encryption.messages_decrypted).toBeGreaterThan(0);
    expect(encryption.encrypt_ms.count).toBeGreaterThan(0);
    expect(encryption.decrypt_ms.count).toBe(encryption.messages_decrypted);
    expect(summary).not.toHaveProperty('encrypted_share_not_applied');

    // Which stored conversations are encrypted, by the same rule the driver used.
    const plan = buildPlan(scenario, RUN_ID);
    const rule = planEncryption(scenario, plan);
    const encrypted = new Set(rule.direct.map((d) => d.conversationId));
    const events = [...(started.world.stores.messages as MemoryMessageStore).allEvents()];
    for (const event of events) {
      const index = event.kind === 'membership' && event.op === 'created' ? / g(\d+)$/.exec(event.name ?? '') : null;
      if (index && rule.groupIndexes.has(Number(index[1]))) encrypted.add(event.conversationId);
    }
    const messages = events.filter((e) => e.kind === 'message');
    const inEncrypted = messages.filter((e) => encrypted.has(e.conversationId));
    const inPlaintext = messages.filter((e) => !encrypted.has(e.conversationId));
    const scan = (list: typeof messages) => {
      const scanner = new PlaintextScanner([marker]);
      for (const e of list) scanner.scanString(e.bodyBase64, `${e.conversationId}#${e.seq}`);
      return scanner.hits;
    };
    expect(inEncrypted.length).toBeGreaterThan(encryption.messages_sent);
    expect(scan(inEncrypted)).toEqual([]);
    // Control: the marker is found where bodies are plaintext.
    expect(scan(inPlaintext).length).toBeGreaterThan(0);
  }, 90_000);
});
