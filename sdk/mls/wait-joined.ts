import type { ConversationId } from '../../system/core/ids.js';
import type { MlsSession } from './mls-session.js';

const POLL_INTERVAL_MS = 20;

/**
 * Waits until every listed session is in its conversation's MLS group (it founded it or applied
 * the Welcome), or until `timeoutMs`. A run that founds its groups before its traffic phase calls
 * this so the phase pays only for messages, not for members still joining. Resolves with the
 * (conversation, session) pairs still outside their group at the end — empty when all joined.
 */
export async function waitUntilJoined(
  members: Iterable<readonly [ConversationId, readonly MlsSession[]]>,
  timeoutMs: number,
): Promise<Array<{ conversationId: ConversationId; session: MlsSession }>> {
  const list = [...members];
  const outside = () =>
    list.flatMap(([conversationId, sessions]) =>
      sessions.filter((s) => s.epoch(conversationId) === undefined).map((session) => ({ conversationId, session })),
    );
  const deadline = performance.now() + timeoutMs;
  let missing = outside();
  while (missing.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    missing = outside();
  }
  return missing;
}
