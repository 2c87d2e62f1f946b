/**
 * Identifiers. Users and devices are named by clients (validated here); conversation ids are
 * derived (1:1) or assigned by the server (groups). All are plain strings on the wire.
 */
export type UserId = string;
export type DeviceId = string;
export type ConversationId = string;
/** Chosen by the sending client; the idempotency key of a send. */
export type ClientMessageId = string;
/** Per-conversation sequence number assigned by the server, starting at 1. */
export type Seq = number;

export const USER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const CONVERSATION_ID_PATTERN = /^(dm:[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.-]{1,64}|grp:[a-f0-9]{8,64})$/;

const DIRECT_PREFIX = 'dm:';
const GROUP_PREFIX = 'grp:';

/** The 1:1 conversation between two users: the same id whichever of them computes it. */
export function directConversationId(a: UserId, b: UserId): ConversationId {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `${DIRECT_PREFIX}${first}:${second}`;
}

export function isDirectConversation(id: ConversationId): boolean {
  return id.startsWith(DIRECT_PREFIX);
}

export function isGroupConversation(id: ConversationId): boolean {
  return id.startsWith(GROUP_PREFIX);
}

/** The two users of a 1:1 conversation id, or undefined when it is not one. */
export function directParticipants(id: ConversationId): [UserId, UserId] | undefined {
  if (!isDirectConversation(id)) return undefined;
  const parts = id.slice(DIRECT_PREFIX.length).split(':');
  // The id is canonical (users sorted), so one pair of users has exactly one conversation.
  if (parts.length !== 2 || !parts[0] || !parts[1] || parts[0] >= parts[1]) return undefined;
  return [parts[0], parts[1]];
}

export function groupConversationId(hex: string): ConversationId {
  return `${GROUP_PREFIX}${hex}`;
}

/** A device is addressed by its user and its own id; the pair is unique. */
export interface DeviceAddress {
  userId: UserId;
  deviceId: DeviceId;
}

export function deviceKey(address: DeviceAddress): string {
  return `${address.userId}/${address.deviceId}`;
}
