export { ChatClient } from './client.js';
export type {
  ChatClientEvents,
  ConnectionState,
  ConversationSummary,
  DeviceReceipts,
  DisconnectInfo,
  GroupChange,
  HistoryPage,
  ClaimedKeyPackages,
  KeyPackageStatus,
  MlsMarker,
  MediaUrl,
  PresenceInfo,
  ReceiptInfo,
  ResetInfo,
  SendOptions,
  SyncPage,
  WelcomeInfo,
} from './client.js';
export type { ChatClientOptions } from './options.js';
// The sans-I/O client core ChatClient is a face of: for a face of your own (another transport, virtual time).
export { ClientCore } from './core/client-core.js';
export type { NewSendOptions } from './core/client-core.js';
export { clientCoreConfig } from './core/config.js';
export type { ClientCoreConfig, ClientCoreHost, DeviceAddress, SavedClientState } from './core/ports.js';
export type { PendingSend } from './core/outbox.js';
export type { SendResult } from './core/outbox.js';
export type { Via } from './ordering.js';
export { ChatClientError, ClientErrorCodes, isChatClientError } from './errors.js';
export type { ChatClientErrorCode, ClientErrorCode } from './errors.js';
export type { ClientTransport, TransportFactory } from './transport.js';
export { WsTransport, wsTransportFactory } from './ws-transport.js';
export type { WsTransportOptions } from './ws-transport.js';
export { RealClock, realClock } from './real-clock.js';
export { cryptoRandom } from './real-random.js';
export { HistoryRecorder } from './history-recorder.js';
export { deliverRecord } from './core/device-history.js';
export type { HistorySink } from './history-recorder.js';
export { uploadMedia, downloadMedia, uploadHeaders, sha256Base64 } from './media.js';
export type { FetchLike, MediaOptions } from './media.js';
export { bodyToBase64, base64ToBytes, base64ToText } from './encoding.js';
export { directConversationId } from '../system/core/ids.js';
export type { ConversationEvent, ChatMessageEvent, MembershipEvent, MediaRef } from '../system/core/events.js';
