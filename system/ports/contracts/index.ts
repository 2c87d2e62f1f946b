/**
 * One contract suite per port, run against every implementation (in-memory, real service,
 * simulated) so the worlds cannot drift apart. Each suite is a function that registers vitest
 * tests for a factory; the factory runs once per suite and its optional cleanup after it.
 */
export { blobStoreContract, type BlobStoreSubject } from './blob-store.contract.js';
export { clockContract, type ClockSubject } from './clock.contract.js';
export { connectionRegistryContract, type ConnectionRegistrySubject } from './connection-registry.contract.js';
export { conversationStoreContract, type ConversationStoreSubject } from './conversation-store.contract.js';
export { directoryStoreContract, type DirectoryStoreSubject } from './directory-store.contract.js';
export { inboxStoreContract, type InboxStoreSubject } from './inbox-store.contract.js';
export { messageStoreContract, type MessageStoreSubject } from './message-store.contract.js';
export { presenceStoreContract, type PresenceStoreSubject } from './presence-store.contract.js';
export { pushSenderContract, type PushSenderSubject } from './push-sender.contract.js';
export { receiptStoreContract, type ReceiptStoreSubject } from './receipt-store.contract.js';
export { routerContract, type RouterNode, type RouterSubject } from './router.contract.js';
export { startEmbeddedBlobServer, type EmbeddedBlobServer, type HttpServedBlobStore } from './embedded-blob-server.js';
export type { Disposable, TimeControl } from './support.js';
export { keyPackageStoreContract, type KeyPackageStoreSubject } from './key-package-store.contract.js';
export { groupEpochStoreContract, type GroupEpochStoreSubject } from './group-epoch-store.contract.js';
export { writeAheadLogContract, type WriteAheadLogSubject } from './write-ahead-log.contract.js';
export { incarnationStoreContract, type IncarnationStoreSubject } from './incarnation-store.contract.js';
