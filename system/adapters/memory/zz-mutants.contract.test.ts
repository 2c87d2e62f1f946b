import { ManualClock } from '../virtual/manual-clock.js';
import { messageStoreContract, connectionRegistryContract, presenceStoreContract, inboxStoreContract, receiptStoreContract, directoryStoreContract, conversationStoreContract } from '../../ports/contracts/index.js';
import { MemoryMessageStore } from './memory-message-store.js';
import { MemoryConnectionRegistry } from './memory-connection-registry.js';
import { MemoryPresenceStore } from './memory-presence-store.js';
import { MemoryInboxStore } from './memory-inbox-store.js';
import { MemoryReceiptStore } from './memory-receipt-store.js';
import { MemoryDirectoryStore } from './memory-directory-store.js';
import { MemoryConversationStore } from './memory-conversation-store.js';
import type { ConversationEventDraft } from '../../core/events.js';

class M1 extends MemoryMessageStore {
  override async append(d: ConversationEventDraft) {
    if (d.kind === 'message') return super.append({ ...d, senderDeviceId: 'x' });
    return super.append(d);
  }
}
messageStoreContract('MUTANT message key ignores device', async () => ({ store: new M1() }));
class M1b extends MemoryMessageStore {
  override async readBefore(c: string, b: number, l: number) { return (await super.readBefore(c, b + 1, l)); }
}
messageStoreContract('MUTANT readBefore inclusive', async () => ({ store: new M1b() }));

class M2 extends MemoryConnectionRegistry {
  override async remove(d: { userId: string; deviceId: string }) { await super.remove(d, (await this.lookup(d.userId)).find((e) => e.deviceId === d.deviceId)?.route ?? { nodeId: '', connectionId: '' }); }
}
connectionRegistryContract('MUTANT registry remove ignores route', async () => { const clock = new ManualClock(); return { registry: new M2(clock), advance: (ms) => clock.advance(ms), eventuallyTimeoutMs: 200 }; });

class M3 extends MemoryPresenceStore {
  override async markOffline() { /* forget */ }
}
presenceStoreContract('MUTANT presence markOffline noop', async () => { const clock = new ManualClock(); return { store: new M3(clock), advance: (ms) => clock.advance(ms), nowMs: () => clock.nowMs(), eventuallyTimeoutMs: 200 }; });

class M4 extends MemoryInboxStore {
  override async list(d: { userId: string; deviceId: string }, limit: number, after?: { conversationId: string; seq: number }) {
    return super.list(d, limit, after && { ...after, seq: after.seq - 1 });
  }
}
inboxStoreContract('MUTANT inbox after inclusive', async () => ({ store: new M4() }));

class M5 extends MemoryReceiptStore {
  override async advance(c: string, d: { userId: string; deviceId: string }, s: 'delivered' | 'read', seq: number) {
    const r = await super.advance(c, d, s === 'read' ? 'delivered' : s, seq); return r;
  }
}
receiptStoreContract('MUTANT receipts share field', async () => ({ store: new M5() }));

class M6 extends MemoryDirectoryStore {
  override async linkDevice(d: { userId: string; deviceId: string }, at: number, max: number) { return super.linkDevice(d, at, max + 1); }
}
directoryStoreContract('MUTANT directory off by one', async () => ({ store: new M6() }));

class M7 extends MemoryConversationStore {
  override async setRole(c: string, u: string, role: 'admin' | 'member') {
    for (const s of (await this.getGroup(c))!.spans) if (s.userId === u) s.role = role;
  }
}
conversationStoreContract('MUTANT setRole all spans', async () => ({ store: new M7() }));
