/**
 * Group commit for idempotent plain writes. A Cassandra node spends most of a small write's CPU on
 * the request itself (parsing, dispatch, the response), not on the mutation; so the writes asked
 * for during one turn of the event loop leave together, when the turn ends (`setImmediate`), as
 * unlogged batches, and each caller's promise settles with its batch's outcome.
 *
 * - A turn with one write sends it as a plain execute, exactly as without group commit.
 * - Batches hold at most GROUP_COMMIT_LIMITS.batchStatementsMax statements and about
 *   batchBytesMax bytes (estimated from the parameter values); a turn with more sends several. A
 *   statement estimated above the byte cap goes alone as a plain execute.
 * - Statements keep their arrival order and are not grouped by partition: on one node a batch
 *   spanning partitions costs nothing extra. (On a multi-node cluster the coordinator forwards
 *   each partition's mutation to its replicas, a hop token-aware single writes avoid; grouping by
 *   replica set would be the refinement there. See docs/storage-cassandra.md, "Group commit".)
 * - Every statement of a batch gets the batch's (driver-generated) timestamp unless it carries
 *   its own `USING TIMESTAMP ?` (allowed: the batch itself sets none). Writes of one turn come from
 *   concurrent callers, so no order between them was promised; two of them writing the same cell
 *   without their own timestamps tie, and Cassandra keeps a deletion, else the larger value.
 * - An outage (see storage-errors.ts) rejects every caller of the batch with the
 *   ChatError('STORAGE_UNAVAILABLE') a single write would have given: the outcome of each write is
 *   unknown, the statements being idempotent the caller may retry. Any other error (a bug in one
 *   statement, or "Batch too large" from a node whose batch_size_fail_threshold is below our
 *   estimate) means the batch was not applied: its statements are then executed one by one, so
 *   each caller gets its own statement's outcome.
 *
 * Only for statements marked idempotent (and so never counter updates, which cannot share an
 * unlogged batch with other writes); lightweight transactions and reads never come here.
 */
import type { Client } from 'cassandra-driver';
import { toStorageError } from './storage-errors.js';

/** Where the limits of one batch live (the local node's cassandra.yaml is set to match, see infra/local/cassandra.ts). */
export interface GroupCommitLimits {
  /** Statements per batch. */
  batchStatementsMax: number;
  /**
   * Estimated bytes per batch (see estimateStatementBytes). Below Cassandra's default
   * batch_size_fail_threshold (50 KiB), so an unchanged node accepts every batch.
   */
  batchBytesMax: number;
}

export const GROUP_COMMIT_LIMITS: Readonly<GroupCommitLimits> = Object.freeze({
  batchStatementsMax: 64,
  batchBytesMax: 48 * 1024,
});

/**
 * Overheads added to the parameter values to estimate Cassandra's own measure of a batch (the
 * mutations' data size, which batch_size_*_threshold compare against): per statement, and per
 * value bound (a cell's timestamp, TTL and flags). Measured on inbox writes: the node reported
 * ~117 bytes per statement above the raw values (10 values); these give ~192.
 */
export const STATEMENT_OVERHEAD_BYTES = 32;
export const VALUE_OVERHEAD_BYTES = 16;

/** What the coalescer needs of the driver client (a fake in the unit tests). */
export type BatchingClient = Pick<Client, 'execute' | 'batch'>;

export interface WriteCoalescerOptions {
  /** The driver's consistency code for every write (the settings' writeConsistency). */
  consistency: number;
  /** Client-side timeout of one request (single or batch), in ms. */
  requestTimeoutMs: number;
  limits?: Partial<GroupCommitLimits>;
}

/** Counts since the coalescer was made (for benchmarks and tests). */
export interface GroupCommitStats {
  /** Batches sent (each of at least two statements). */
  batches: number;
  /** Writes that went in those batches. */
  batchedWrites: number;
  /** Writes sent alone: the only write of their turn, above the byte cap, or re-sent after a failed batch. */
  singleWrites: number;
}

interface PendingWrite {
  query: string;
  params: unknown[];
  bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class WriteCoalescer {
  private readonly limits: GroupCommitLimits;
  private pending: PendingWrite[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts: GroupCommitStats = { batches: 0, batchedWrites: 0, singleWrites: 0 };

  constructor(
    private readonly client: BatchingClient,
    private readonly options: WriteCoalescerOptions,
  ) {
    this.limits = { ...GROUP_COMMIT_LIMITS, ...withoutUndefined(options.limits ?? {}) };
    if (!Number.isInteger(this.limits.batchStatementsMax) || this.limits.batchStatementsMax < 1)
      throw new Error('batchStatementsMax must be a positive integer');
    if (!(this.limits.batchBytesMax > 0)) throw new Error('batchBytesMax must be positive');
  }

  /** Queues an idempotent write for the end of this turn; settles when its batch (or execute) does. */
  write(query: string, params: unknown[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ query, params, bytes: estimateStatementBytes(params), resolve, reject });
      this.scheduled ??= setImmediate(() => this.dispatch());
    });
  }

  /** Sends what waits for the end of the turn now, then waits until every batch in flight has settled. */
  async flush(): Promise<void> {
    this.dispatch();
    while (this.inFlight.size > 0) {
      await Promise.all([...this.inFlight]);
      this.dispatch();
    }
  }

  /** Writes waiting for the end of the turn. */
  get pendingWrites(): number {
    return this.pending.length;
  }

  get stats(): Readonly<GroupCommitStats> {
    return { ...this.counts };
  }

  private dispatch(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const writes = this.pending;
    if (writes.length === 0) return;
    this.pending = [];
    for (const group of splitIntoBatches(writes, this.limits))
      this.track(group.length === 1 ? this.sendAlone(group[0]!) : this.sendBatch(group));
  }

  private track(sending: Promise<void>): void {
    const tracked = sending.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Never rejects: the outcome goes to the caller's promise. */
  private async sendAlone(write: PendingWrite): Promise<void> {
    this.counts.singleWrites += 1;
    try {
      await this.client.execute(write.query, write.params, {
        prepare: true,
        readTimeout: this.options.requestTimeoutMs,
        consistency: this.options.consistency,
        isIdempotent: true,
      });
      write.resolve();
    } catch (error) {
      write.reject(toStorageError(error, firstWords(write.query)));
    }
  }

  /** Never rejects: the outcome goes to every caller's promise. */
  private async sendBatch(writes: PendingWrite[]): Promise<void> {
    this.counts.batches += 1;
    this.counts.batchedWrites += writes.length;
    try {
      await this.client.batch(
        writes.map((w) => ({ query: w.query, params: w.params })),
        {
          prepare: true,
          logged: false,
          readTimeout: this.options.requestTimeoutMs,
          consistency: this.options.consistency,
          isIdempotent: true,
        },
      );
    } catch (error) {
      const mapped = toStorageError(error, `batch of ${writes.length} writes`);
      if (mapped === error) {
        // Not an outage: nothing of the batch was applied. Each statement alone gives each caller its own outcome.
        await Promise.all(writes.map((w) => this.sendAlone(w)));
        return;
      }
      for (const w of writes) w.reject(toStorageError(error, `${firstWords(w.query)} (in a batch of ${writes.length} writes)`));
      return;
    }
    for (const w of writes) w.resolve();
  }
}

/**
 * Consecutive runs of at most batchStatementsMax writes and about batchBytesMax bytes; a write
 * above the byte cap forms a group of its own.
 */
function splitIntoBatches(writes: readonly PendingWrite[], limits: GroupCommitLimits): PendingWrite[][] {
  const groups: PendingWrite[][] = [];
  let current: PendingWrite[] = [];
  let currentBytes = 0;
  for (const write of writes) {
    if (write.bytes > limits.batchBytesMax) {
      groups.push([write]);
      continue;
    }
    if (current.length >= limits.batchStatementsMax || currentBytes + write.bytes > limits.batchBytesMax) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(write);
    currentBytes += write.bytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** A statement's estimated share of a batch: its parameter values plus the overheads above. */
export function estimateStatementBytes(params: readonly unknown[]): number {
  let bytes = STATEMENT_OVERHEAD_BYTES;
  for (const value of params) if (value !== null && value !== undefined) bytes += VALUE_OVERHEAD_BYTES + estimateValueBytes(value);
  return bytes;
}

function estimateValueBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  if (typeof value === 'boolean') return 1;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (Array.isArray(value) || value instanceof Set) {
    let bytes = 0;
    for (const item of value) bytes += 4 + estimateValueBytes(item);
    return bytes;
  }
  if (value instanceof Map) {
    let bytes = 0;
    for (const [k, v] of value) bytes += 8 + estimateValueBytes(k) + estimateValueBytes(v);
    return bytes;
  }
  // Uuid / TimeUuid (16 bytes), Long (8), Date, InetAddress, LocalDate…: small fixed-size values.
  const inner = (value as { buffer?: unknown }).buffer;
  if (Buffer.isBuffer(inner)) return inner.length;
  return 16;
}

function firstWords(query: string): string {
  return query.replace(/\s+/g, ' ').trim().split(' ').slice(0, 4).join(' ');
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
