/**
 * Where the server keeps the **incarnation** of its log: an id that names one lifetime of the
 * stored conversations. Seqs, idempotency keys and inboxes only mean something within one
 * incarnation: a log that starts over from empty (an embedded, in-memory world restarted) numbers
 * from seq 1 again and has forgotten every accepted send. Clients learn the incarnation from
 * `welcome` and reset what they keep per conversation when it changes (docs/protocol.md, 7.9).
 *
 * A durable world stores it once, beside the log, and every gateway reads the same value at every
 * start; an in-memory world holds it in memory, so a restart that loses the log loses it too.
 */
export interface IncarnationStore {
  /**
   * The stored incarnation. When the storage holds none yet (its first start), `candidate` is
   * stored first and returned. Whoever calls, and however many first starts race, every call on
   * the same storage returns the same value: the first one stored.
   */
  establish(candidate: string): Promise<string>;
}
