/**
 * A thin layer over the driver client that every store uses: prepared statements always,
 * explicit consistency per statement, lightweight transactions, paging, and outage errors turned
 * into ChatError('STORAGE_UNAVAILABLE').
 */
import driver from 'cassandra-driver';
import type { Client, QueryOptions, types as driverTypes } from 'cassandra-driver';
import type { CassandraSettings, ConsistencyName, SerialConsistencyName } from './cassandra-config.js';
import { toStorageError } from './storage-errors.js';
import { WriteCoalescer, type GroupCommitStats } from './write-coalescer.js';

const { types } = driver;

export type Row = driverTypes.Row;
export type Params = unknown[];
export type Level = ConsistencyName | SerialConsistencyName;

/** The outcome of a lightweight transaction; `row` holds the current values when it was not applied. */
export interface LwtOutcome {
  applied: boolean;
  row: Row | undefined;
}

/** Rows fetched per page when a read collects many (bounded so a page of 64 KiB bodies stays small). */
export const PAGE_ROWS = 200;

/** A caller's row limit as a CQL `LIMIT ?` value (an int). */
export function limitParam(limit: number): number {
  return Math.max(0, Math.min(Math.floor(limit), 2_147_483_647));
}

const LEVELS: Record<Level, number> = {
  ONE: types.consistencies.one,
  TWO: types.consistencies.two,
  THREE: types.consistencies.three,
  QUORUM: types.consistencies.quorum,
  ALL: types.consistencies.all,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  EACH_QUORUM: types.consistencies.eachQuorum,
  LOCAL_ONE: types.consistencies.localOne,
  SERIAL: types.consistencies.serial,
  LOCAL_SERIAL: types.consistencies.localSerial,
};

export function consistencyCode(level: Level): number {
  return LEVELS[level];
}

/** First wait before reconnecting to a node that went down; doubles up to reconnectDelayMaxMs. */
const RECONNECT_DELAY_BASE_MS = 500;

export function createDriverClient(settings: CassandraSettings): Client {
  return new driver.Client({
    contactPoints: [...settings.contactPoints],
    localDataCenter: settings.localDataCenter,
    ...(settings.credentials ? { credentials: { ...settings.credentials } } : {}),
    socketOptions: { readTimeout: settings.requestTimeoutMs, connectTimeout: settings.connectTimeoutMs },
    policies: {
      reconnection: new driver.policies.reconnection.ExponentialReconnectionPolicy(
        RECONNECT_DELAY_BASE_MS,
        settings.reconnectDelayMaxMs,
        false,
      ),
    },
    queryOptions: {
      prepare: true,
      consistency: consistencyCode(settings.writeConsistency),
      serialConsistency: consistencyCode(settings.serialConsistency),
    },
    protocolOptions: { maxSchemaAgreementWaitSeconds: 30 },
  });
}

export class Cql {
  readonly keyspace: string;
  /** Group commit of idempotent plain writes (undefined when `settings.groupCommit` is false). */
  private readonly coalescer: WriteCoalescer | undefined;

  constructor(
    readonly client: Client,
    readonly settings: CassandraSettings,
  ) {
    this.keyspace = settings.keyspace;
    this.coalescer = settings.groupCommit
      ? new WriteCoalescer(client, { consistency: consistencyCode(settings.writeConsistency), requestTimeoutMs: settings.requestTimeoutMs })
      : undefined;
  }

  /** `keyspace.table`: statements name the keyspace, so the client needs none. */
  table(name: string): string {
    return `${this.keyspace}.${name}`;
  }

  /** A read at the configured read consistency (or `level`), first page only. */
  async read(query: string, params: Params, level: Level = this.settings.readConsistency, options: QueryOptions = {}): Promise<Row[]> {
    const result = await this.execute(query, params, { consistency: consistencyCode(level), isIdempotent: true, ...options });
    return result.rows;
  }

  async readOne(query: string, params: Params, level?: Level): Promise<Row | undefined> {
    return (await this.read(query, params, level))[0];
  }

  /**
   * Up to `max` rows, following the server's paging state page by page (the query should also
   * carry `LIMIT ?` = max so the server stops early).
   */
  async collect(query: string, params: Params, max: number, level: Level = this.settings.readConsistency): Promise<Row[]> {
    const rows: Row[] = [];
    let pageState: string | undefined;
    while (rows.length < max) {
      const result = await this.execute(query, params, {
        consistency: consistencyCode(level),
        isIdempotent: true,
        fetchSize: Math.min(PAGE_ROWS, max - rows.length),
        ...(pageState ? { pageState } : {}),
      });
      rows.push(...result.rows);
      pageState = result.pageState;
      if (!pageState || result.rows.length === 0) break;
    }
    return rows.length > max ? rows.slice(0, max) : rows;
  }

  /**
   * A plain write at the write consistency; `idempotent` lets the driver retry it after a timeout.
   * With group commit on, idempotent writes of one event-loop turn leave together as unlogged
   * batches at the end of the turn (see write-coalescer.ts); the others go at once.
   */
  async write(query: string, params: Params, idempotent: boolean): Promise<void> {
    if (idempotent && this.coalescer) return this.coalescer.write(query, params);
    await this.execute(query, params, { consistency: consistencyCode(this.settings.writeConsistency), isIdempotent: idempotent });
  }

  /** Sends the writes waiting for the end of the turn and waits for every group-commit batch in flight (call before closing the client). */
  async flush(): Promise<void> {
    await this.coalescer?.flush();
  }

  /** Group-commit counts (undefined when group commit is off). */
  get groupCommitStats(): Readonly<GroupCommitStats> | undefined {
    return this.coalescer?.stats;
  }

  /**
   * A lightweight transaction (`… IF …`): Paxos at the serial consistency, commit at the write
   * consistency. Never retried by the driver: callers decide what a timeout means.
   */
  async lwt(query: string, params: Params): Promise<LwtOutcome> {
    const result = await this.execute(query, params, {
      consistency: consistencyCode(this.settings.writeConsistency),
      serialConsistency: consistencyCode(this.settings.serialConsistency),
      isIdempotent: false,
    });
    return lwtOutcome(result.rows);
  }

  /** A conditional batch (all statements in one partition). */
  async lwtBatch(statements: { query: string; params: Params }[]): Promise<LwtOutcome> {
    try {
      const result = await this.client.batch(statements, {
        prepare: true,
        readTimeout: this.settings.requestTimeoutMs,
        consistency: consistencyCode(this.settings.writeConsistency),
        serialConsistency: consistencyCode(this.settings.serialConsistency),
        isIdempotent: false,
      });
      return lwtOutcome(result.rows);
    } catch (error) {
      throw toStorageError(error, 'conditional batch');
    }
  }

  /** An unlogged batch of writes to one partition (atomic and isolated there). */
  async writePartitionBatch(statements: { query: string; params: Params }[], idempotent: boolean): Promise<void> {
    if (statements.length === 0) return;
    try {
      await this.client.batch(statements, {
        prepare: true,
        readTimeout: this.settings.requestTimeoutMs,
        logged: false,
        consistency: consistencyCode(this.settings.writeConsistency),
        isIdempotent: idempotent,
      });
    } catch (error) {
      throw toStorageError(error, 'batch');
    }
  }

  /** Schema statements: not prepared, the driver waits for schema agreement. */
  async ddl(statement: string): Promise<void> {
    try {
      await this.client.execute(statement, [], {
        prepare: false,
        consistency: consistencyCode('ONE'),
        isIdempotent: true,
        readTimeout: Math.max(60_000, this.settings.requestTimeoutMs),
      });
    } catch (error) {
      throw toStorageError(error, `schema change (${statement.slice(0, 60)}…)`);
    }
  }

  private async execute(query: string, params: Params, options: QueryOptions): Promise<driverTypes.ResultSet> {
    try {
      return await this.client.execute(query, params, { prepare: true, readTimeout: this.settings.requestTimeoutMs, ...options });
    } catch (error) {
      throw toStorageError(error, firstWords(query));
    }
  }
}

function lwtOutcome(rows: Row[]): LwtOutcome {
  const row = rows[0];
  return { applied: row?.get('[applied]') === true, row };
}

function firstWords(query: string): string {
  return query.replace(/\s+/g, ' ').trim().split(' ').slice(0, 4).join(' ');
}

// ---- value conversions ----

/** bigint / int / counter cells as a JS number (all our values are well below 2^53). */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(): number }).toNumber();
  throw new TypeError(`not a number cell: ${String(value)}`);
}

export function optNum(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : num(value);
}

export function optText(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

export function newUuid(): driverTypes.Uuid {
  return types.Uuid.random();
}

export function sameUuid(a: unknown, b: driverTypes.Uuid): boolean {
  return a instanceof types.Uuid && a.equals(b);
}

/** Runs `task` over `items` with at most `width` in flight. */
export async function forEachLimited<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
