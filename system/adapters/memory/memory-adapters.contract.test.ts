/**
 * The port contract suites (system/ports/contracts) against the in-memory adapters: on a
 * ManualClock, and for the time-based ports also on the system clock with real sleeps, the way
 * the Redis adapters will run them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  blobStoreContract,
  clockContract,
  connectionRegistryContract,
  conversationStoreContract,
  directoryStoreContract,
  groupEpochStoreContract,
  inboxStoreContract,
  incarnationStoreContract,
  keyPackageStoreContract,
  messageStoreContract,
  presenceStoreContract,
  pushSenderContract,
  receiptStoreContract,
  routerContract,
  startEmbeddedBlobServer,
  writeAheadLogContract,
} from '../../ports/contracts/index.js';
import { systemClock } from '../node/system-clock.js';
import { ManualClock } from '../virtual/manual-clock.js';
import { EmbeddedBlobStore } from './embedded-blob-store.js';
import { LocalRouter } from './local-router.js';
import { MemoryConnectionRegistry } from './memory-connection-registry.js';
import { MemoryConversationStore } from './memory-conversation-store.js';
import { MemoryDirectoryStore } from './memory-directory-store.js';
import { MemoryGroupEpochStore } from './memory-group-epoch-store.js';
import { MemoryInboxStore } from './memory-inbox-store.js';
import { MemoryIncarnationStore } from './memory-incarnation-store.js';
import { MemoryKeyPackageStore } from './memory-key-package-store.js';
import { MemoryMessageStore } from './memory-message-store.js';
import { MemoryPresenceStore } from './memory-presence-store.js';
import { MemoryReceiptStore } from './memory-receipt-store.js';
import { RecordingPushSender } from './recording-push-sender.js';
import { MemoryWriteAheadLog } from './memory-write-ahead-log.js';

const realSleep = (ms: number) => sleep(ms);

messageStoreContract('MemoryMessageStore', async () => ({ store: new MemoryMessageStore() }));

conversationStoreContract('MemoryConversationStore', async () => ({ store: new MemoryConversationStore() }));

inboxStoreContract('MemoryInboxStore', async () => ({ store: new MemoryInboxStore() }));

receiptStoreContract('MemoryReceiptStore', async () => ({ store: new MemoryReceiptStore() }));

directoryStoreContract('MemoryDirectoryStore', async () => ({ store: new MemoryDirectoryStore() }));

keyPackageStoreContract('MemoryKeyPackageStore', async () => ({ store: new MemoryKeyPackageStore() }));

groupEpochStoreContract('MemoryGroupEpochStore', async () => ({ store: new MemoryGroupEpochStore() }));

// The memory store's storage is the object itself: another handle on it is the same object.
incarnationStoreContract('MemoryIncarnationStore', async () => ({
  open: async () => new MemoryIncarnationStore(),
  reopen: async (store) => store,
}));

connectionRegistryContract('MemoryConnectionRegistry (manual clock)', async () => {
  const clock = new ManualClock();
  return { registry: new MemoryConnectionRegistry(clock), advance: (ms) => clock.advance(ms), ttlMs: 60_000 };
});

connectionRegistryContract('MemoryConnectionRegistry (system clock, real time)', async () => ({
  registry: new MemoryConnectionRegistry(systemClock),
  advance: realSleep,
  ttlMs: 300,
}));

presenceStoreContract('MemoryPresenceStore (manual clock)', async () => {
  const clock = new ManualClock();
  return { store: new MemoryPresenceStore(clock), advance: (ms) => clock.advance(ms), nowMs: () => clock.nowMs(), ttlMs: 60_000 };
});

presenceStoreContract('MemoryPresenceStore (system clock, real time)', async () => ({
  store: new MemoryPresenceStore(systemClock),
  advance: realSleep,
  nowMs: () => systemClock.nowMs(),
  ttlMs: 300,
}));

blobStoreContract('EmbeddedBlobStore (manual clock)', async () => {
  const clock = new ManualClock();
  const store = new EmbeddedBlobStore({ secret: 'contract-test-secret', clock });
  const server = await startEmbeddedBlobServer(store);
  return { store, nowMs: () => clock.nowMs(), advance: (ms) => clock.advance(ms), urlTtlMs: 60_000, cleanup: server.close };
});

pushSenderContract('RecordingPushSender', async () => {
  const sender = new RecordingPushSender();
  sender.unregisteredTokens.add('uninstalled-token');
  return { sender, token: 'live-token', unregisteredToken: 'uninstalled-token', received: async () => [...sender.sent] };
});

routerContract('LocalRouter', async () => {
  const router = new LocalRouter('node-1');
  return {
    nodes: [
      {
        nodeId: router.nodeId,
        router,
        attach(connectionId, onFrame) {
          const endpoint = { deliverFrame: onFrame };
          router.attach(connectionId, endpoint);
          return () => router.detach(connectionId, endpoint);
        },
      },
    ],
  };
});

clockContract('ManualClock', async () => {
  const clock = new ManualClock();
  return { clock, advance: (ms) => clock.advance(ms) };
});

clockContract('systemClock (real time)', async () => ({ clock: systemClock, advance: realSleep, stepMs: 100 }));

writeAheadLogContract('MemoryWriteAheadLog', async () => ({
  open: async () => new MemoryWriteAheadLog(),
  reopen: async (log) => log,
}));
