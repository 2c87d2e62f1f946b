import type { Limits } from '../core/limits.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionRegistry } from '../ports/connection-registry.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { DirectoryStore } from '../ports/directory-store.js';
import type { InboxStore } from '../ports/inbox-store.js';
import type { MessageStore } from '../ports/message-store.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { PresenceStore } from '../ports/presence-store.js';
import type { PushSender } from '../ports/push-sender.js';
import type { Random } from '../ports/random.js';
import type { ReceiptStore } from '../ports/receipt-store.js';
import type { Router } from '../ports/router.js';

/** Everything the core needs from the world it runs in. Each world's composition root builds one. */
export interface CoreDeps {
  clock: Clock;
  random: Random;
  limits: Limits;
  /** This gateway node's id (unique among the nodes sharing a registry). */
  nodeId: string;
  /** Secret for signing auth tokens and (embedded) media URLs. */
  tokenSecret: string;
  messages: MessageStore;
  conversations: ConversationStore;
  inbox: InboxStore;
  receipts: ReceiptStore;
  directory: DirectoryStore;
  registry: ConnectionRegistry;
  router: Router;
  presence: PresenceStore;
  blobs: BlobStore;
  push: PushSender;
  metrics: Metrics;
  log: Logger;
}
