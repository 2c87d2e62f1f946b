import { z } from 'zod';
import { errorCodeList } from '../core/errors.js';
import { CLIENT_MESSAGE_ID_PATTERN, CONVERSATION_ID_PATTERN, DEVICE_ID_PATTERN, USER_ID_PATTERN } from '../core/ids.js';

/*
 * Frames are JSON text frames with a `type`. Requests that expect an answer carry `rid` (a client
 * request id, echoed on the answer or the error). docs/protocol.md documents every frame.
 */

const userId = z.string().regex(USER_ID_PATTERN, 'user ids are 1-64 of [A-Za-z0-9_.-]');
const deviceId = z.string().regex(DEVICE_ID_PATTERN, 'device ids are 1-64 of [A-Za-z0-9_.-]');
const conversationId = z.string().regex(CONVERSATION_ID_PATTERN, 'conversation ids are dm:<user>:<user> or grp:<hex>');
const clientMessageId = z.string().regex(CLIENT_MESSAGE_ID_PATTERN, 'client message ids are 1-128 of [A-Za-z0-9_.:-]');
const rid = z.string().min(1).max(64);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'body must be base64');
const objectKey = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'object keys are [A-Za-z0-9_.:/-]');
const contentType = z.string().min(1).max(100);
const limit = z.number().int().min(1).max(10_000);

export const mediaRefSchema = z.object({
  objectKey,
  contentType,
  sizeBytes: z.number().int().min(0),
});

/** MLS metadata of an opaque body (docs/e2ee.md): the server reads only a commit's epoch. */
export const mlsMarkerSchema = z.object({
  kind: z.enum(['application', 'commit', 'proposal', 'welcome']),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

const deviceAddress = z.object({ userId, deviceId });

// ---------- client → server ----------

export const authFrame = z.object({
  type: z.literal('auth'),
  rid: rid.optional(),
  v: z.number().int(),
  token: z.string().min(1).max(4096),
});

export const sendFrame = z.object({
  type: z.literal('send'),
  rid: rid.optional(),
  conversationId,
  clientMessageId,
  body: base64,
  media: mediaRefSchema.optional(),
  mls: mlsMarkerSchema.optional(),
});

export const ackFrame = z.object({ type: z.literal('ack'), conversationId, seq: seq.min(1) });
export const readFrame = z.object({ type: z.literal('read'), conversationId, seq: seq.min(1) });

export const syncFrame = z.object({
  type: z.literal('sync'),
  rid,
  conversationId,
  afterSeq: seq,
  /**
   * The device has no cursor in this conversation yet: start no earlier than its link point (the
   * first event accepted after the device was linked), the earliest event it can be owed. The
   * answer starts at the later of that point and `afterSeq`.
   */
  fromLink: z.literal(true).optional(),
  limit: limit.optional(),
});

export const historyFrame = z.object({
  type: z.literal('history'),
  rid,
  conversationId,
  /** Page backwards from here (exclusive); absent = from the newest event. */
  beforeSeq: seq.optional(),
  limit: limit.optional(),
});

export const conversationsFrame = z.object({ type: z.literal('conversations'), rid });
export const receiptsFrame = z.object({ type: z.literal('receipts'), rid, conversationId });

export const groupCreateFrame = z.object({
  type: z.literal('group_create'),
  rid,
  name: z.string().min(1).max(1000),
  members: z.array(userId).max(100_000),
});
export const groupAddFrame = z.object({
  type: z.literal('group_add'),
  rid,
  conversationId,
  userIds: z.array(userId).min(1).max(100_000),
});
export const groupRemoveFrame = z.object({ type: z.literal('group_remove'), rid, conversationId, userId });
export const groupLeaveFrame = z.object({ type: z.literal('group_leave'), rid, conversationId });
export const groupAdminFrame = z.object({
  type: z.literal('group_admin'),
  rid,
  conversationId,
  userId,
  admin: z.boolean(),
});

export const presenceSubscribeFrame = z.object({
  type: z.literal('presence_subscribe'),
  rid: rid.optional(),
  userIds: z.array(userId).min(1).max(100_000),
});
export const presenceUnsubscribeFrame = z.object({
  type: z.literal('presence_unsubscribe'),
  rid: rid.optional(),
  userIds: z.array(userId).min(1).max(100_000),
});

export const heartbeatFrame = z.object({ type: z.literal('heartbeat') });

export const mediaUploadFrame = z.object({
  type: z.literal('media_upload'),
  rid,
  conversationId,
  sizeBytes: z.number().int().min(1),
  contentType,
  /** SHA-256 of the exact bytes to upload, base64: the upload URL takes only these bytes, once. */
  sha256: z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'sha256 is the base64 of a 32-byte SHA-256 digest (44 characters)'),
});
export const mediaDownloadFrame = z.object({ type: z.literal('media_download'), rid, conversationId, objectKey });

export const pushTokenFrame = z.object({
  type: z.literal('push_token'),
  rid: rid.optional(),
  /** null removes the device's token. */
  token: z.string().min(1).max(4096).nullable(),
});

export const deviceUnlinkFrame = z.object({ type: z.literal('device_unlink'), rid, deviceId });

// MLS key directory (docs/e2ee.md). Counts are bounded here loosely; the limits are the service's.
export const kpUploadFrame = z.object({
  type: z.literal('kp_upload'),
  rid,
  /** Single-use KeyPackages (encoded MLSMessage, base64). */
  keyPackages: z.array(base64).max(10_000).default([]),
  /** A reusable last-resort KeyPackage, replacing any earlier one. */
  lastResort: base64.optional(),
});
export const kpCountFrame = z.object({ type: z.literal('kp_count'), rid });
export const kpClaimFrame = z.object({
  type: z.literal('kp_claim'),
  rid,
  userIds: z.array(userId).min(1).max(100_000),
  /** Devices to skip (already in the group). The calling device is always skipped. */
  exceptDevices: z.array(deviceAddress).max(100_000).optional(),
});

export const clientFrameSchemas = {
  auth: authFrame,
  send: sendFrame,
  ack: ackFrame,
  read: readFrame,
  sync: syncFrame,
  history: historyFrame,
  conversations: conversationsFrame,
  receipts: receiptsFrame,
  group_create: groupCreateFrame,
  group_add: groupAddFrame,
  group_remove: groupRemoveFrame,
  group_leave: groupLeaveFrame,
  group_admin: groupAdminFrame,
  presence_subscribe: presenceSubscribeFrame,
  presence_unsubscribe: presenceUnsubscribeFrame,
  heartbeat: heartbeatFrame,
  media_upload: mediaUploadFrame,
  media_download: mediaDownloadFrame,
  push_token: pushTokenFrame,
  device_unlink: deviceUnlinkFrame,
  kp_upload: kpUploadFrame,
  kp_count: kpCountFrame,
  kp_claim: kpClaimFrame,
} as const;

export type ClientFrameType = keyof typeof clientFrameSchemas;
export type ClientFrameOf<T extends ClientFrameType> = z.infer<(typeof clientFrameSchemas)[T]>;
export type ClientFrame = { [T in ClientFrameType]: ClientFrameOf<T> }[ClientFrameType];

// ---------- server → client ----------

const senderFields = { senderUserId: userId, senderDeviceId: deviceId };

export const messageEventSchema = z.object({
  kind: z.literal('message'),
  conversationId,
  seq: seq.min(1),
  ...senderFields,
  clientMessageId,
  bodyBase64: base64,
  media: mediaRefSchema.optional(),
  serverTimeMs: z.number(),
});

export const membershipEventSchema = z.object({
  kind: z.literal('membership'),
  conversationId,
  seq: seq.min(1),
  op: z.enum(['created', 'added', 'removed', 'left', 'admin_granted', 'admin_revoked']),
  actorUserId: userId,
  userIds: z.array(userId),
  name: z.string().optional(),
  serverTimeMs: z.number(),
});

export const conversationEventSchema = z.discriminatedUnion('kind', [messageEventSchema, membershipEventSchema]);

export const serverFrameSchemas = {
  welcome: z.object({
    type: z.literal('welcome'),
    rid: rid.optional(),
    v: z.number().int(),
    userId,
    deviceId,
    nodeId: z.string(),
    /**
     * The incarnation of the server's log: the same for as long as the stored conversations last,
     * new when the server starts over from an empty log (docs/protocol.md, section 7.9). Optional
     * in the schema only because older servers did not send it.
     */
    incarnation: z.string().min(1).max(64).optional(),
    serverTimeMs: z.number(),
    heartbeatIntervalMs: z.number(),
    limits: z.record(z.string(), z.unknown()),
  }),
  sent: z.object({
    type: z.literal('sent'),
    rid: rid.optional(),
    conversationId,
    clientMessageId,
    seq: seq.min(1),
    serverTimeMs: z.number(),
    duplicate: z.boolean(),
  }),
  /**
   * The message store was unavailable: the gateway logged the message durably (write-ahead log) and
   * will number it later. The seq arrives as an `event` carrying the sender's own message.
   */
  queued: z.object({
    type: z.literal('queued'),
    rid: rid.optional(),
    conversationId,
    clientMessageId,
    serverTimeMs: z.number(),
    duplicate: z.boolean(),
  }),
  /** A conversation event delivered to this device; acknowledge it with `ack`. */
  event: z.object({
    type: z.literal('event'),
    event: conversationEventSchema,
    /** Replayed from the device's offline inbox on connect rather than delivered live. */
    queued: z.boolean().optional(),
  }),
  receipt: z.object({
    type: z.literal('receipt'),
    conversationId,
    state: z.enum(['delivered', 'read']),
    /** Cumulative: every event of the conversation up to this seq. */
    upToSeq: seq.min(1),
    userId,
    deviceId,
  }),
  presence: z.object({
    type: z.literal('presence'),
    userId,
    online: z.boolean(),
    lastSeenMs: z.number().optional(),
  }),
  sync_result: z.object({
    type: z.literal('sync_result'),
    rid,
    conversationId,
    events: z.array(conversationEventSchema),
    /** More events exist after the last one returned. */
    hasMore: z.boolean(),
    lastSeq: seq,
  }),
  history_result: z.object({
    type: z.literal('history_result'),
    rid,
    conversationId,
    events: z.array(conversationEventSchema),
    /** Older events exist before the first one returned. */
    hasMore: z.boolean(),
  }),
  conversations_result: z.object({
    type: z.literal('conversations_result'),
    rid,
    conversations: z.array(z.object({ conversationId, lastSeq: seq, kind: z.enum(['direct', 'group']), name: z.string().optional() })),
  }),
  receipts_result: z.object({
    type: z.literal('receipts_result'),
    rid,
    conversationId,
    devices: z.array(z.object({ userId, deviceId, deliveredSeq: seq, readSeq: seq })),
  }),
  group_result: z.object({
    type: z.literal('group_result'),
    rid,
    conversationId,
    /** Seq of the membership event the request produced. */
    seq: seq.min(1),
  }),
  media_url: z.object({
    type: z.literal('media_url'),
    rid,
    objectKey,
    url: z.string(),
    method: z.enum(['PUT', 'GET']),
    expiresAtMs: z.number(),
  }),
  ok: z.object({ type: z.literal('ok'), rid }),
  /** The calling device's KeyPackages in the directory: the answer to `kp_upload` and `kp_count`. */
  kp_status: z.object({
    type: z.literal('kp_status'),
    rid,
    /** Unclaimed single-use packages. */
    available: z.number().int().min(0),
    lastResort: z.boolean(),
  }),
  /** The answer to `kp_claim`: one package per device. */
  kp_claimed: z.object({
    type: z.literal('kp_claimed'),
    rid,
    keyPackages: z.array(z.object({ userId, deviceId, keyPackage: base64, lastResort: z.boolean() })),
    /** Linked devices with no package at all (never uploaded): they cannot be added yet. */
    missing: z.array(deviceAddress),
  }),
  heartbeat_ack: z.object({ type: z.literal('heartbeat_ack'), serverTimeMs: z.number() }),
  error: z.object({
    type: z.literal('error'),
    rid: rid.optional(),
    code: z.enum(errorCodeList as [string, ...string[]]),
    message: z.string(),
    retryable: z.boolean(),
    retryAfterMs: z.number().optional(),
    /** The client frame type the error answers, when known. */
    inReplyTo: z.string().optional(),
  }),
  /** The server is going away: reconnect after the hint (to another node when listed). */
  goaway: z.object({
    type: z.literal('goaway'),
    reason: z.string(),
    reconnectAfterMs: z.number(),
    urls: z.array(z.string()).optional(),
  }),
} as const;

export type ServerFrameType = keyof typeof serverFrameSchemas;
export type ServerFrameOf<T extends ServerFrameType> = z.infer<(typeof serverFrameSchemas)[T]>;
export type ServerFrame = { [T in ServerFrameType]: ServerFrameOf<T> }[ServerFrameType];

export const serverFrameSchema = z.discriminatedUnion(
  'type',
  Object.values(serverFrameSchemas) as unknown as [
    (typeof serverFrameSchemas)['welcome'],
    ...Array<(typeof serverFrameSchemas)[ServerFrameType]>,
  ],
);
