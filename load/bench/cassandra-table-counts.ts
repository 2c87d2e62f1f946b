/**
 * What a Cassandra node itself counted, per table of one keyspace: local reads and local writes
 * (a mutation applied to the table; a batch of N statements on N partitions is N writes), from its
 * virtual tables `system_views.local_read_latency` / `local_write_latency` (Cassandra 4.1+). A
 * benchmark takes one snapshot before a window and one after, and reports the difference per
 * message: the node's own count, which does not depend on any instrumentation in the gateways.
 */
import { Client } from 'cassandra-driver';

export type TableCounts = Record<string, { reads: number; writes: number }>;

export interface TableCounter {
  snapshot(): Promise<TableCounts>;
  close(): Promise<void>;
}

export async function openTableCounter(options: {
  contactPoint: string;
  localDataCenter: string;
  keyspace: string;
}): Promise<TableCounter> {
  const client = new Client({ contactPoints: [options.contactPoint], localDataCenter: options.localDataCenter });
  await client.connect();
  const read = async (view: string): Promise<Map<string, number>> => {
    const result = await client.execute(`SELECT table_name, count FROM system_views.${view} WHERE keyspace_name = ?`, [options.keyspace], {
      prepare: true,
    });
    return new Map(result.rows.map((row) => [String(row['table_name']), Number(row['count'])]));
  };
  return {
    async snapshot() {
      const [reads, writes] = await Promise.all([read('local_read_latency'), read('local_write_latency')]);
      const counts: TableCounts = {};
      for (const table of new Set([...reads.keys(), ...writes.keys()]))
        counts[table] = { reads: reads.get(table) ?? 0, writes: writes.get(table) ?? 0 };
      return counts;
    },
    close: () => client.shutdown(),
  };
}

/** after − before, per message, for the tables that moved; plus the totals. */
export function countsPerMessage(
  before: TableCounts,
  after: TableCounts,
  messages: number,
): { tables: TableCounts; reads: number; writes: number } {
  const tables: TableCounts = {};
  let reads = 0;
  let writes = 0;
  const round = (n: number) => Math.round((n / messages) * 1000) / 1000;
  for (const [table, now] of Object.entries(after)) {
    const was = before[table] ?? { reads: 0, writes: 0 };
    const moved = { reads: now.reads - was.reads, writes: now.writes - was.writes };
    if (moved.reads === 0 && moved.writes === 0) continue;
    tables[table] = { reads: round(moved.reads), writes: round(moved.writes) };
    reads += moved.reads;
    writes += moved.writes;
  }
  return { tables, reads: round(reads), writes: round(writes) };
}
