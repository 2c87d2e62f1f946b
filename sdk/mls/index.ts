/**
 * End-to-end encryption with MLS (RFC 9420) on top of the ChatClient: see sdk/README.md and
 * docs/e2ee.md.
 */
export { MlsSession } from './mls-session.js';
export type { DecryptedMessage, MlsSessionEvents, MlsSessionOptions, RejectedMessage } from './mls-session.js';
export { MlsSessionError, MlsErrorCodes } from './errors.js';
export type { MlsErrorCode } from './errors.js';
export type { EncryptedMedia, MessageContent } from './payload.js';
export { sendEncryptedMedia, uploadEncryptedMedia, downloadEncryptedMedia } from './media.js';
export { waitUntilJoined } from './wait-joined.js';
export { sealMedia, openMedia } from './media-crypto.js';
export { decodeEnvelope, encodeEnvelope } from './envelope.js';
export type { Envelope } from './envelope.js';
