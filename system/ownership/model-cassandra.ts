/**
 * Test support (not production code): an in-memory model of the two Cassandra tables the owned
 * log uses (`messages`, with its static `head_seq`, and `conversation_heads`), and a stand-in for
 * the `Cql` statement layer that runs the owned log's real statements against it. The ownership
 * property test runs the REAL CassandraOwnedLog and LeaseKeeper on top of it.
 *
 * Cassandra semantics kept exactly, as far as these statements can observe them:
 * - every cell (and the row marker an INSERT writes) carries its write timestamp; a write wins
 *   over an older one per cell (last write wins); at equal timestamps the greater value wins;
 * - `undefined` parameters are "unset": no cell is written (a live older cell stays);
 * - a range deletion (`DELETE … WHERE … AND seq > ?`) shadows every cell of the rows in range
 *   whose timestamp is <= the deletion's (a deletion wins a tie), whenever the cell arrives;
 *   it does not touch the partition's static cells;
 * - a row exists while its marker or one of its cells is live;
 * - a SELECT without a restriction on `seq` of a partition that has live static cells and no live
 *   rows returns one row with `seq` null and the statics (checked against Cassandra 4/5: with a
 *   restriction on `seq` it returns nothing).
 *
 * Statements are recognised by shape (INSERT/UPDATE/DELETE/SELECT with `?` markers); anything
 * else throws, so a change of the owned log's statements fails loudly here.
 */
import type { Cql, Params, Row } from '../adapters/cassandra/cql.js';
import { resolveCassandraConfig, type CassandraSettings } from '../adapters/cassandra/cassandra-config.js';

interface Cell {
  value: unknown;
  ts: number;
}

interface StoredRow {
  marker: number | undefined;
  cells: Map<string, Cell>;
}

interface Partition {
  statics: Map<string, Cell>;
  rows: Map<number, StoredRow>;
  deletions: Array<{ op: '>' | '>=' | '<' | '<=' | '='; bound: number; ts: number }>;
}

interface TableSchema {
  partitionKey: readonly string[];
  clustering: string | undefined;
  statics: readonly string[];
}

const SCHEMAS: Record<string, TableSchema> = {
  messages: { partitionKey: ['conversation_id', 'bucket'], clustering: 'seq', statics: ['head_seq'] },
  conversation_heads: { partitionKey: ['conversation_id'], clustering: undefined, statics: [] },
};

type Condition = { column: string; op: '=' | '>' | '>=' | '<' | '<='; value: unknown };

/** A later write wins; at equal timestamps the greater value (Cassandra compares the bytes). */
function wins(candidate: Cell, current: Cell | undefined): boolean {
  if (!current) return true;
  if (candidate.ts !== current.ts) return candidate.ts > current.ts;
  return compareValues(candidate.value, current.value) > 0;
}

function compareValues(a: unknown, b: unknown): number {
  const x = Buffer.isBuffer(a) ? a.toString('hex') : JSON.stringify(a);
  const y = Buffer.isBuffer(b) ? b.toString('hex') : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function matches(op: Condition['op'], value: number, bound: number): boolean {
  switch (op) {
    case '=':
      return value === bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
  }
}

function asNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`expected a number, got ${String(value)}`);
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim());
}

/** The tables, with Cassandra's reconciliation rules. One replica (the test is about timing, not replication). */
export class ModelCassandra {
  private readonly tables = new Map<string, Map<string, Partition>>();
  /** Statements applied, in order (for a counterexample's story). */
  readonly trace: string[] = [];
  traceEnabled = false;
  /** Rows that arrived already deleted by a newer range deletion (a fenced late write). */
  fencedOnArrival = 0;

  execute(query: string, params: Params): Row[] {
    const q = query.replace(/\s+/g, ' ').trim();
    let m: RegExpMatchArray | null;
    if ((m = q.match(/^INSERT INTO \w+\.(\w+) \((.+?)\) VALUES \((.+?)\) USING TIMESTAMP \?$/))) {
      const columns = splitList(m[2]!);
      const ts = asNumber(params[columns.length]);
      this.insert(m[1]!, Object.fromEntries(columns.map((c, i) => [c, params[i]])), ts);
      return [];
    }
    if ((m = q.match(/^UPDATE \w+\.(\w+) USING TIMESTAMP \? SET (.+?) WHERE (.+)$/))) {
      const ts = asNumber(params[0]);
      const sets = splitList(m[2]!).map((s) => s.replace(/ = \?$/, ''));
      const where = this.conditions(m[3]!, params.slice(1 + sets.length));
      this.update(m[1]!, Object.fromEntries(sets.map((c, i) => [c, params[1 + i]])), where, ts);
      return [];
    }
    if ((m = q.match(/^DELETE FROM \w+\.(\w+) USING TIMESTAMP \? WHERE (.+)$/))) {
      this.delete(m[1]!, this.conditions(m[2]!, params.slice(1)), asNumber(params[0]));
      return [];
    }
    if ((m = q.match(/^SELECT (.+?) FROM \w+\.(\w+) WHERE (.+?)( ORDER BY (\w+) (ASC|DESC))?( LIMIT (\?|\d+))?$/))) {
      const where = this.conditions(m[3]!, params);
      const limit = m[8] === undefined ? Number.MAX_SAFE_INTEGER : m[8] === '?' ? asNumber(params[where.length]) : Number(m[8]);
      return this.select(m[2]!, splitList(m[1]!), where, m[6] === 'DESC', limit);
    }
    throw new Error(`model Cassandra: unsupported statement: ${q}`);
  }

  private conditions(text: string, params: Params): Condition[] {
    return text.split(' AND ').map((part, i) => {
      const m = part.trim().match(/^(\w+) (=|>=|<=|>|<) \?$/);
      if (!m) throw new Error(`model Cassandra: unsupported condition ${part}`);
      return { column: m[1]!, op: m[2] as Condition['op'], value: params[i] };
    });
  }

  private schema(table: string): TableSchema {
    const schema = SCHEMAS[table];
    if (!schema) throw new Error(`model Cassandra: unknown table ${table}`);
    return schema;
  }

  private partition(table: string, key: unknown[], create: boolean): Partition | undefined {
    let partitions = this.tables.get(table);
    if (!partitions) {
      partitions = new Map();
      this.tables.set(table, partitions);
    }
    const k = JSON.stringify(key);
    let p = partitions.get(k);
    if (!p && create) {
      p = { statics: new Map(), rows: new Map(), deletions: [] };
      partitions.set(k, p);
    }
    return p;
  }

  private partitionKey(schema: TableSchema, values: Record<string, unknown>): unknown[] {
    return schema.partitionKey.map((c) => {
      if (!(c in values)) throw new Error(`model Cassandra: partition key column ${c} missing`);
      return values[c];
    });
  }

  private insert(table: string, values: Record<string, unknown>, ts: number): void {
    const schema = this.schema(table);
    const p = this.partition(table, this.partitionKey(schema, values), true)!;
    if (this.traceEnabled)
      this.trace.push(`INSERT ${table} ${JSON.stringify(values, (_k, v: unknown) => (Buffer.isBuffer(v) ? '<bytes>' : v))} @${ts}`);
    if (!schema.clustering) throw new Error('model Cassandra: INSERT into a table without clustering is not modelled');
    const seq = asNumber(values[schema.clustering]);
    let row = p.rows.get(seq);
    if (!row) {
      row = { marker: undefined, cells: new Map() };
      p.rows.set(seq, row);
    }
    if (row.marker === undefined || ts > row.marker) row.marker = ts;
    if (ts <= this.deletedAt(p, seq)) this.fencedOnArrival += 1;
    for (const [column, value] of Object.entries(values)) {
      if (schema.partitionKey.includes(column) || column === schema.clustering || value === undefined) continue;
      const cell = { value: cloneValue(value), ts };
      const target = schema.statics.includes(column) ? p.statics : row.cells;
      if (wins(cell, target.get(column))) target.set(column, cell);
    }
  }

  private update(table: string, sets: Record<string, unknown>, where: Condition[], ts: number): void {
    const schema = this.schema(table);
    const keyValues = Object.fromEntries(where.map((c) => [c.column, c.value]));
    const p = this.partition(table, this.partitionKey(schema, keyValues), true)!;
    if (this.traceEnabled) this.trace.push(`UPDATE ${table} ${JSON.stringify(keyValues)} SET ${JSON.stringify(sets)} @${ts}`);
    for (const [column, value] of Object.entries(sets)) {
      // Only static columns (messages) or a table without clustering are updated by the owned log.
      if (schema.clustering && !schema.statics.includes(column))
        throw new Error(`model Cassandra: UPDATE of regular column ${column} is not modelled`);
      if (value === undefined) continue;
      const cell = { value: cloneValue(value), ts };
      if (wins(cell, p.statics.get(column))) p.statics.set(column, cell);
    }
  }

  private delete(table: string, where: Condition[], ts: number): void {
    const schema = this.schema(table);
    const keyValues = Object.fromEntries(where.filter((c) => c.op === '=').map((c) => [c.column, c.value]));
    const p = this.partition(table, this.partitionKey(schema, keyValues), true)!;
    const ranges = where.filter((c) => c.column === schema.clustering);
    if (ranges.length !== 1) throw new Error('model Cassandra: only a one-sided range deletion on the clustering column is modelled');
    const range = ranges[0]!;
    if (this.traceEnabled) this.trace.push(`DELETE ${table} ${JSON.stringify(keyValues)} seq ${range.op} ${String(range.value)} @${ts}`);
    p.deletions.push({ op: range.op, bound: asNumber(range.value), ts });
  }

  /** The newest deletion timestamp covering the row `seq`, or -Infinity. */
  private deletedAt(p: Partition, seq: number): number {
    let at = -Infinity;
    for (const d of p.deletions) if (matches(d.op, seq, d.bound) && d.ts > at) at = d.ts;
    return at;
  }

  private liveCells(p: Partition, seq: number, row: StoredRow): Map<string, unknown> | undefined {
    const deletedAt = this.deletedAt(p, seq);
    const cells = new Map<string, unknown>();
    for (const [column, cell] of row.cells) if (cell.ts > deletedAt) cells.set(column, cell.value);
    const markerLive = row.marker !== undefined && row.marker > deletedAt;
    return markerLive || cells.size > 0 ? cells : undefined;
  }

  private select(table: string, columns: string[], where: Condition[], descending: boolean, limit: number): Row[] {
    const schema = this.schema(table);
    const keyValues = Object.fromEntries(where.filter((c) => schema.partitionKey.includes(c.column)).map((c) => [c.column, c.value]));
    const clusteringConditions = where.filter((c) => c.column === schema.clustering);
    const p = this.partition(table, this.partitionKey(schema, keyValues), false);
    if (!p) return [];
    const statics = new Map([...p.statics].map(([c, cell]) => [c, cell.value]));
    if (!schema.clustering) {
      // A table without clustering columns: its one row is the "statics" map.
      return statics.size === 0 ? [] : [makeRow(columns, { ...keyValues, ...Object.fromEntries(statics) })];
    }
    const clustering = schema.clustering;
    const out: Row[] = [];
    const seqs = [...p.rows.keys()].sort((a, b) => (descending ? b - a : a - b));
    for (const seq of seqs) {
      if (out.length >= limit) break;
      if (!clusteringConditions.every((c) => matches(c.op, seq, asNumber(c.value)))) continue;
      const cells = this.liveCells(p, seq, p.rows.get(seq)!);
      if (!cells) continue;
      out.push(makeRow(columns, { ...keyValues, [clustering]: seq, ...Object.fromEntries(statics), ...Object.fromEntries(cells) }));
    }
    if (out.length === 0 && clusteringConditions.length === 0 && statics.size > 0 && limit > 0) {
      out.push(makeRow(columns, { ...keyValues, [clustering]: null, ...Object.fromEntries(statics) }));
    }
    return out;
  }

  /** Every live row of a table (diagnostics). */
  dump(table: string): Array<{ key: string; statics: Record<string, unknown>; rows: Array<[number, Record<string, unknown>]> }> {
    const partitions = this.tables.get(table) ?? new Map<string, Partition>();
    return [...partitions].map(([key, p]) => ({
      key,
      statics: Object.fromEntries([...p.statics].map(([c, cell]) => [c, `${String(cell.value)}@${cell.ts}`])),
      rows: [...p.rows.keys()]
        .sort((a, b) => a - b)
        .flatMap((seq): Array<[number, Record<string, unknown>]> => {
          const cells = this.liveCells(p, seq, p.rows.get(seq)!);
          return cells ? [[seq, Object.fromEntries([...cells].map(([c, v]) => [c, Buffer.isBuffer(v) ? v.toString('utf8') : v]))]] : [];
        }),
    }));
  }
}

function cloneValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (Array.isArray(value)) return [...(value as unknown[])];
  return value;
}

function makeRow(columns: string[], values: Record<string, unknown>): Row {
  const selected = new Map(columns.map((c) => [c, c in values ? cloneValue(values[c]) : null]));
  return {
    get: (name: string) => {
      if (!selected.has(name)) throw new Error(`model Cassandra: column ${name} was not selected`);
      return selected.get(name);
    },
  } as unknown as Row;
}

/** How a statement reaches the model: at once, or through a scheduler that delays, reorders or loses it. */
export type ModelTransport = <T>(kind: 'read' | 'write', describe: string, run: () => T) => Promise<T>;

const immediately: ModelTransport = async (_kind, _describe, run) => run();

/** Stands in for `Cql` (the parts the owned log calls) over a ModelCassandra. */
export class ModelCql {
  readonly settings: CassandraSettings;
  readonly keyspace: string;

  constructor(
    private readonly db: ModelCassandra,
    bucketEvents: number,
    private readonly transport: ModelTransport = immediately,
  ) {
    this.settings = resolveCassandraConfig({ contactPoints: ['model'], localDataCenter: 'model', keyspace: 'model', bucketEvents });
    this.keyspace = this.settings.keyspace;
  }

  /** Typed as the real statement layer, for constructors that take one. */
  asCql(): Cql {
    return this as unknown as Cql;
  }

  table(name: string): string {
    return `${this.keyspace}.${name}`;
  }

  async write(query: string, params: Params, _idempotent: boolean): Promise<void> {
    await this.transport('write', query, () => this.db.execute(query, params));
  }

  async read(query: string, params: Params): Promise<Row[]> {
    return this.transport('read', query, () => this.db.execute(query, params));
  }

  async readOne(query: string, params: Params): Promise<Row | undefined> {
    return (await this.read(query, params))[0];
  }

  async collect(query: string, params: Params, max: number): Promise<Row[]> {
    const rows = await this.read(query, params);
    return rows.slice(0, max);
  }
}
