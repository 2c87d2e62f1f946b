import { KeyedSerializer } from '../core/keyed-serializer.js';
import { AuthService } from './auth-service.js';
import { ChatService } from './chat-service.js';
import { WriteAhead } from './write-ahead.js';
import { OwnerRouting } from './owner-routing.js';
import type { OwnerCall } from '../ports/conversation-owners.js';
import type { WalEntry } from '../ports/write-ahead-log.js';
import type { SendRequest } from './chat-service.js';
import type { CoreDeps } from './deps.js';
import { DeviceRoutes } from './device-routes.js';
import { Fanout } from './fanout.js';
import { GroupService } from './group-service.js';
import { KeyDirectoryService } from './key-directory-service.js';
import { LogIncarnation } from './log-incarnation.js';
import { mlsKeyPackageInspector } from './key-package-inspector.js';
import { MediaService } from './media-service.js';
import { Membership } from './membership.js';
import { MlsEpochGuard } from './mls-epoch-guard.js';
import { PresenceService } from './presence-service.js';
import { PushNotifier } from './push-notifier.js';
import { ReceiptService } from './receipt-service.js';
import { SyncService } from './sync-service.js';

/**
 * The messaging core: every service wired to one set of ports. The same object runs embedded,
 * in production and in the simulator; only the CoreDeps differ.
 */
export class ChatCore {
  readonly auth: AuthService;
  readonly chat: ChatService;
  readonly groups: GroupService;
  readonly receipts: ReceiptService;
  readonly sync: SyncService;
  readonly media: MediaService;
  readonly presence: PresenceService;
  readonly pushNotifier: PushNotifier;
  readonly membership: Membership;
  /** The MLS key directory (KeyPackage upload and claim). */
  readonly keys: KeyDirectoryService;
  /** Connected devices' routes, kept for a few seconds (DeviceRoutes). */
  readonly routes: DeviceRoutes;
  /** Present when the world gives the core a write-ahead log (production; the simulator may). */
  readonly writeAhead: WriteAhead | undefined;
  /** The incarnation of the log, sent in `welcome` (read at gateway start: `incarnation.start()`). */
  readonly incarnation: LogIncarnation;

  constructor(readonly deps: CoreDeps) {
    // One serializer for messages and membership changes: both take the conversation's next seq.
    const serializer = new KeyedSerializer();
    const routing = new OwnerRouting(deps, deps.owners);
    this.membership = new Membership(deps);
    this.pushNotifier = new PushNotifier(deps);
    this.routes = new DeviceRoutes(deps, this.pushNotifier);
    const fanout = new Fanout(deps, this.routes, this.pushNotifier);
    this.auth = new AuthService(deps);
    this.media = new MediaService(deps, this.membership);
    this.writeAhead = deps.wal ? new WriteAhead({ ...deps, wal: deps.wal }, (entry) => this.chat.replay(entry)) : undefined;
    this.chat = new ChatService(
      deps,
      serializer,
      this.membership,
      fanout,
      this.media,
      routing,
      deps.groupEpochs ? new MlsEpochGuard(deps.groupEpochs) : undefined,
      this.writeAhead,
    );
    this.groups = new GroupService(deps, serializer, this.membership, fanout, routing);
    this.receipts = new ReceiptService(deps, this.membership, this.routes);
    this.sync = new SyncService(deps, this.membership);
    this.presence = new PresenceService(deps);
    this.keys = new KeyDirectoryService(deps, deps.keyPackageInspector ?? mlsKeyPackageInspector);
    this.incarnation = new LogIncarnation(deps);
  }

  /** Carries out a request another node forwarded because this node owns the conversation (OwnerRouting). */
  handleOwnerCall(call: OwnerCall): Promise<unknown> {
    switch (call.kind) {
      case 'send':
        return this.chat.acceptForwarded(call.caller, call.request as unknown as SendRequest);
      case 'replay':
        return this.chat.replayHere(call.entry as unknown as WalEntry);
      case 'group':
        return this.groups.runForwarded(call.method, call.caller, call.args);
    }
  }
}
