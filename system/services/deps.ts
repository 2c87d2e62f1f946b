import type { Limits } from '../core/limits.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionRegistry } from '../ports/connection-registry.js';
import type { ConversationOwners } from '../ports/conversation-owners.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { DirectoryStore } from '../ports/directory-store.js';
import type { GroupEpochStore } from '../ports/group-epoch-store.js';
import type { IncarnationStore } from '../ports/incarnation-store.js';
import type { InboxStore } from '../ports/inbox-store.js';
import type { KeyPackageStore } from '../ports/key-package-store.js';
import type { MessageStore } from '../ports/message-store.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { PresenceStore } from '../ports/presence-store.js';
import type { PushSender } from '../ports/push-sender.js';
import type { Random } from '../ports/random.js';
import type { ReceiptStore } from '../ports/receipt-store.js';
import type { Router } from '../ports/router.js';
import type { TokenAuthority } from '../ports/token-authority.js';
import type { WriteAheadLog } from '../ports/write-ahead-log.js';
import type { KeyPackageInspector } from './key-package-inspector.js';

/** Everything the core needs from the world it runs in. Each world's composition root builds one. */
export interface CoreDeps {
  clock: Clock;
  random: Random;
  limits: Limits;
  /** This gateway node's id (unique among the nodes sharing a registry). */
  nodeId: string;
  /** Issues and verifies auth tokens (JWTs; system/adapters/jwt). */
  tokens: TokenAuthority;
  messages: MessageStore;
  conversations: ConversationStore;
  inbox: InboxStore;
  receipts: ReceiptStore;
  directory: DirectoryStore;
  /**
   * The MLS key directory (KeyPackages per device). Optional only so worlds can adopt it one at a
   * time: without it, `kp_*` requests fail with INTERNAL.
   */
  keyPackages?: KeyPackageStore;
  /** The MLS epoch of each conversation (one accepted commit per epoch); without it commits are not ordered by epoch. */
  groupEpochs?: GroupEpochStore;
  /** Checks uploaded KeyPackages (default: the RFC 9420 checks; the simulator may model them instead). */
  keyPackageInspector?: KeyPackageInspector;
  registry: ConnectionRegistry;
  router: Router;
  presence: PresenceStore;
  blobs: BlobStore;
  push: PushSender;
  metrics: Metrics;
  log: Logger;
  /**
   * Node-local durable log for sends the message store cannot take (outage, timeout). Absent: such
   * sends fail with STORAGE_UNAVAILABLE and the client retries (the embedded world, whose store
   * cannot fail).
   */
  wal?: WriteAheadLog;
  /**
   * Where the log's incarnation is kept (sent in `welcome`; ports/incarnation-store.ts): durably
   * beside the log in production, in memory beside the in-memory stores elsewhere. Absent: every
   * core draws its own, as a log that lives only as long as this process would.
   */
  incarnations?: IncarnationStore;
  /**
   * Which node numbers each conversation, when several nodes share the stores (production).
   * Absent: this node appends to every conversation itself (embedded, simulated).
   */
  owners?: ConversationOwners;
}
