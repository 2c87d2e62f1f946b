import type { HistoryEvent } from './history.js';
import type { Violation } from './violation.js';

/** One history event on one line, e.g. `@1040ms deliver bob/phone grp:… seq=3 message c1 from alice/phone via live`. */
export function formatEvent(e: HistoryEvent): string {
  const at = `@${e.atMs}ms`;
  switch (e.type) {
    case 'device':
    case 'welcomed':
    case 'connect':
    case 'disconnect':
      return `${at} ${e.type} ${e.userId}/${e.deviceId}`;
    case 'send':
      return `${at} send ${e.userId}/${e.deviceId} ${e.conversationId} ${e.clientMessageId} attempt=${e.attempt}`;
    case 'queued':
      return `${at} queued ${e.userId}/${e.deviceId} ${e.conversationId} ${e.clientMessageId} (write-ahead log, no seq yet)`;
    case 'ack':
      return `${at} ack ${e.userId}/${e.deviceId} ${e.conversationId} ${e.clientMessageId} seq=${e.seq}`;
    case 'deliver': {
      const what =
        e.kind === 'membership'
          ? `membership ${e.op ?? '?'} [${(e.memberUserIds ?? []).join(',')}]`
          : `message ${e.clientMessageId ?? '?'} from ${e.senderUserId ?? '?'}/${e.senderDeviceId ?? '?'}`;
      return `${at} deliver ${e.userId}/${e.deviceId} ${e.conversationId} seq=${e.seq} ${what} via ${e.via}`;
    }
    case 'receipt':
      return `${at} receipt seen by ${e.userId}/${e.deviceId}: ${e.byUserId}/${e.byDeviceId} ${e.state} up to seq ${e.upToSeq} in ${e.conversationId}`;
    case 'presence':
      return `${at} presence seen by ${e.userId}/${e.deviceId}: ${e.subjectUserId} ${e.online ? 'online' : 'offline'}`;
    case 'quiesce':
      return `${at} quiesce ${e.devices.length} devices [${e.devices
        .slice(0, 8)
        .map((d) => `${d.userId}/${d.deviceId}`)
        .join(', ')}${e.devices.length > 8 ? ', …' : ''}]`;
  }
}

/**
 * A violation as readable text:
 *
 *   [durability] conversation grp:00aa11bb · device bob/phone · seq 3 · message c1
 *     message c1 from alice/phone acked at seq 3 … was never delivered to bob/phone …
 *     witness:
 *       @1000ms send alice/phone grp:00aa11bb c1 attempt=1
 *       …
 */
export function formatViolation(v: Violation): string {
  const where: string[] = [];
  if (v.conversationId !== undefined) where.push(`conversation ${v.conversationId}`);
  if (v.userId !== undefined) where.push(v.deviceId !== undefined ? `device ${v.userId}/${v.deviceId}` : `user ${v.userId}`);
  if (v.seq !== undefined) where.push(`seq ${v.seq}`);
  if (v.clientMessageId !== undefined) where.push(`message ${v.clientMessageId}`);
  const lines = [`[${v.invariant}]${where.length > 0 ? ` ${where.join(' · ')}` : ''}`, `  ${v.message}`];
  if (v.witness.length > 0) {
    lines.push('  witness:');
    for (const e of v.witness) lines.push(`    ${formatEvent(e)}`);
  }
  return lines.join('\n');
}
