/**
 * Conversation events ↔ the event columns shared by `messages` and `inbox` (schema.ts,
 * EVENT_COLUMNS_DDL). Bodies are stored as bytes when their base64 is canonical (what
 * Buffer#toString('base64') produces), else verbatim as text, so every body reads back exactly.
 */
import type { ConversationEvent, ConversationEventDraft, MembershipOp } from '../../core/events.js';
import type { Seq } from '../../core/ids.js';
import { num, optNum, optText, type Row } from './cql.js';

export const EVENT_COLUMNS = [
  'kind',
  'sender_user_id',
  'sender_device_id',
  'client_message_id',
  'body',
  'body_text',
  'media_object_key',
  'media_content_type',
  'media_size_bytes',
  'op',
  'actor_user_id',
  'user_ids',
  'name',
  'server_time_ms',
] as const;

export const EVENT_COLUMN_LIST = EVENT_COLUMNS.join(', ');
export const EVENT_PLACEHOLDERS = EVENT_COLUMNS.map(() => '?').join(', ');

/**
 * Values for EVENT_COLUMNS, in order. Absent fields are `undefined`, which the driver sends as
 * "unset" (a `null` would write a tombstone per empty column of every row).
 */
export function eventValues(event: ConversationEventDraft | ConversationEvent): unknown[] {
  if (event.kind === 'message') {
    const canonical = isCanonicalBase64(event.bodyBase64);
    return [
      'message',
      event.senderUserId,
      event.senderDeviceId,
      event.clientMessageId,
      canonical ? Buffer.from(event.bodyBase64, 'base64') : undefined,
      canonical ? undefined : event.bodyBase64,
      event.media?.objectKey,
      event.media?.contentType,
      event.media?.sizeBytes,
      undefined,
      undefined,
      undefined,
      undefined,
      event.serverTimeMs,
    ];
  }
  return [
    'membership',
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    event.op,
    event.actorUserId,
    [...event.userIds],
    event.name,
    event.serverTimeMs,
  ];
}

/** The event stored in a row that has EVENT_COLUMNS, `conversation_id` and `seq`. */
export function eventFromRow(row: Row): ConversationEvent {
  const conversationId = String(row.get('conversation_id'));
  const seq: Seq = num(row.get('seq'));
  const serverTimeMs = num(row.get('server_time_ms'));
  const kind = row.get('kind') as string;
  if (kind === 'message') {
    const bodyText = optText(row.get('body_text'));
    const body = row.get('body') as Buffer | null;
    const event: ConversationEvent = {
      kind: 'message',
      conversationId,
      seq,
      senderUserId: String(row.get('sender_user_id')),
      senderDeviceId: String(row.get('sender_device_id')),
      clientMessageId: String(row.get('client_message_id')),
      bodyBase64: bodyText ?? (body ? body.toString('base64') : ''),
      serverTimeMs,
    };
    const objectKey = optText(row.get('media_object_key'));
    if (objectKey !== undefined) {
      event.media = {
        objectKey,
        contentType: String(row.get('media_content_type')),
        sizeBytes: optNum(row.get('media_size_bytes')) ?? 0,
      };
    }
    return event;
  }
  if (kind !== 'membership') throw new Error(`unknown event kind ${JSON.stringify(kind)} at ${conversationId}#${seq}`);
  const event: ConversationEvent = {
    kind: 'membership',
    conversationId,
    seq,
    op: row.get('op') as MembershipOp,
    actorUserId: String(row.get('actor_user_id')),
    userIds: [...((row.get('user_ids') as string[] | null) ?? [])],
    serverTimeMs,
  };
  const name = optText(row.get('name'));
  if (name !== undefined) event.name = name;
  return event;
}

export function isCanonicalBase64(text: string): boolean {
  return Buffer.from(text, 'base64').toString('base64') === text;
}
