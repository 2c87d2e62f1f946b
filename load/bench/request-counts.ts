/**
 * What a gateway asks of its stores, counted: Cassandra requests by kind and Redis commands by
 * name, for `npm run bench:cluster -- --stage-timing DIR` (timed-gateway.ts counts, the bench adds
 * the gateways up and divides by the messages sent). Each count belongs to a scope: the outermost
 * timed call that issued it (`core.chat.send`, `registry.put`, …, see StageTimer.outerStage), so
 * the message path can be told from connection set-up. Bench-only, like stage-timer.ts.
 */

/** Cassandra requests of one scope. A batch is one request of several statements. */
export interface CqlCounts {
  requests: number;
  statements: number;
  /** Lightweight transactions (`… IF …`, a round of Paxos each); a conditional batch is one. */
  lwt: number;
  /** SELECT requests. */
  reads: number;
  /** INSERT / UPDATE / DELETE statements without IF; a plain batch counts each of its statements. */
  plainWrites: number;
}

export interface ScopeCounts {
  cql: CqlCounts;
  /** Commands sent to Redis by name (EVALSHA, PUBLISH, …), each counted once. */
  redisCommands: Record<string, number>;
}

/** The scope of requests issued outside every timed call: start-up, migrations, connection handshakes, subscriptions. */
export const NO_SCOPE = '(no timed call)';

/**
 * Slot-lease and node-liveness statements, whatever call they ran under: a send that finds
 * ownership moving triggers a lease read (and maybe a renewal) in its own async context, but that
 * work depends on time and cluster size, not on the messages.
 */
export const LEASE_SCOPE = '(slot leases)';
const LEASE_TABLES = /\b(slot_leases|gateway_nodes)\b/;

/**
 * The scopes that are the message path: the two request handlers the 1:1 load exercises (named as
 * timed-gateway.ts times them). Everything they issue counts, including the work done once per
 * conversation on its first message (the user lookup, `user_conversations`).
 */
export const MESSAGE_PATH_SCOPES: ReadonlySet<string> = new Set(['core.chat.send', 'core.receipts.delivered']);

export class RequestCounter {
  private readonly scopes = new Map<string, ScopeCounts>();

  /** One `client.execute` (one query) or one `client.batch` (several) issued in `scope`. */
  countCql(scope: string, queries: readonly string[], batch: boolean): void {
    const cql = this.scope(queries.some((query) => LEASE_TABLES.test(query)) ? LEASE_SCOPE : scope).cql;
    cql.requests += 1;
    cql.statements += queries.length;
    const writes = queries.filter((query) => WRITE_VERBS.has(statementVerb(query)));
    // A batch with any condition is applied as one Paxos round, all or nothing. (DDL's
    // `IF NOT EXISTS` is no transaction: schema statements count as requests only.)
    if (writes.some(isConditional)) cql.lwt += 1;
    else cql.plainWrites += writes.length;
    if (!batch && statementVerb(queries[0] ?? '') === 'SELECT') cql.reads += 1;
  }

  countRedis(scope: string, commandName: string): void {
    const commands = this.scope(scope).redisCommands;
    commands[commandName] = (commands[commandName] ?? 0) + 1;
  }

  /** Every scope's counts, for the figures file. */
  toJSON(): Record<string, ScopeCounts> {
    return Object.fromEntries(this.scopes);
  }

  /** A copy of the counts so far (the start of a measuring window). */
  snapshot(): Record<string, ScopeCounts> {
    return JSON.parse(JSON.stringify(this.toJSON())) as Record<string, ScopeCounts>;
  }

  private scope(name: string): ScopeCounts {
    let counts = this.scopes.get(name);
    if (!counts) {
      counts = emptyCounts();
      this.scopes.set(name, counts);
    }
    return counts;
  }
}

const WRITE_VERBS: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE']);

function statementVerb(query: string): string {
  return query.trim().split(/\s+/)[0]?.toUpperCase() ?? '?';
}

/** `IF NOT EXISTS`, `IF EXISTS`, `IF col = ?`: a lightweight transaction (or, in DDL, a guard). */
export function isConditional(query: string): boolean {
  return /\bIF\b/i.test(query);
}

/** `INSERT messages IF`, `SELECT inbox`, `UPDATE receipts`: verb, table, and whether it is a lightweight transaction. */
export function statementShape(query: string): string {
  const verb = statementVerb(query);
  const table = /(?:FROM|INTO|UPDATE)\s+(?:\w+\.)?(\w+)/i.exec(query)?.[1] ?? '?';
  const lwt = isConditional(query) ? ' IF' : '';
  const shape = /ORDER BY seq DESC LIMIT 1/i.test(query) && verb === 'SELECT' && table === 'messages' ? ' (highest)' : '';
  return `${verb} ${table}${lwt}${shape}`;
}

export function emptyCounts(): ScopeCounts {
  return { cql: { requests: 0, statements: 0, lwt: 0, reads: 0, plainWrites: 0 }, redisCommands: {} };
}

/** Adds `from` into `into`. */
export function addCounts(into: ScopeCounts, from: ScopeCounts): void {
  for (const key of Object.keys(into.cql) as Array<keyof CqlCounts>) into.cql[key] += from.cql[key];
  for (const [name, count] of Object.entries(from.redisCommands)) into.redisCommands[name] = (into.redisCommands[name] ?? 0) + count;
}

/** The sum over several gateways' scopes of those scopes `include` accepts. */
export function sumScopes(gateways: ReadonlyArray<Record<string, ScopeCounts>>, include: (scope: string) => boolean): ScopeCounts {
  const total = emptyCounts();
  for (const scopes of gateways) {
    for (const [scope, counts] of Object.entries(scopes)) if (include(scope)) addCounts(total, counts);
  }
  return total;
}

/** What was counted since `before` (a snapshot of the same counter), per scope. */
export function countsSince(now: Record<string, ScopeCounts>, before: Record<string, ScopeCounts>): Record<string, ScopeCounts> {
  const out: Record<string, ScopeCounts> = {};
  for (const [scope, counts] of Object.entries(now)) {
    const diff = emptyCounts();
    addCounts(diff, counts);
    const earlier = before[scope];
    if (earlier) {
      for (const key of Object.keys(diff.cql) as Array<keyof CqlCounts>) diff.cql[key] -= earlier.cql[key];
      for (const [name, count] of Object.entries(earlier.redisCommands)) diff.redisCommands[name] = (diff.redisCommands[name] ?? 0) - count;
    }
    out[scope] = diff;
  }
  return out;
}

/**
 * The steady window's table: every request the gateways made between the end of the load's
 * warm-up and its end, per message sent in that window, with the lease work apart.
 */
export function formatSteady(sends: number, requests: PerMessageRequests, leaseLwt: number, cpu: PerMessageCpu): string {
  const line = (label: string, n: number | undefined) => `${label.padEnd(46)} ${(n === undefined ? '–' : n.toFixed(2)).padStart(12)}`;
  return [
    `${`steady window: after warm-up, all scopes (÷ ${sends} sends)`.padEnd(46)} ${'per message'.padStart(12)}`,
    line('Cassandra requests (a batch is one)', requests.cassandraRequests),
    line('  statements (a batch counts each)', requests.cassandraStatements),
    line('  LWT requests, messages', requests.lwt),
    line('  LWT requests, slot leases (time, not traffic)', leaseLwt),
    line('  reads (SELECT)', requests.reads),
    line('  plain writes', requests.plainWrites),
    line('Redis commands', requests.redisCommands),
    line('CPU ms, gateways', cpu.gatewayCpuMs),
    line('CPU ms, Cassandra', cpu.cassandraCpuMs),
    line('CPU ms, Redis', cpu.redisCpuMs),
  ].join('\n');
}

export function redisTotal(counts: ScopeCounts): number {
  return Object.values(counts.redisCommands).reduce((sum, n) => sum + n, 0);
}

/** Per-message request figures of one column (whole run or message path); redisByCommand stays totals. */
export interface PerMessageRequests {
  cassandraRequests: number;
  cassandraStatements: number;
  lwt: number;
  reads: number;
  plainWrites: number;
  redisCommands: number;
  redisByCommand: Record<string, number>;
}

export function perMessageRequests(counts: ScopeCounts, sends: number): PerMessageRequests {
  const per = (n: number) => round2(n / Math.max(1, sends));
  return {
    cassandraRequests: per(counts.cql.requests),
    cassandraStatements: per(counts.cql.statements),
    lwt: per(counts.cql.lwt),
    reads: per(counts.cql.reads),
    plainWrites: per(counts.cql.plainWrites),
    redisCommands: per(redisTotal(counts)),
    redisByCommand: Object.fromEntries(Object.entries(counts.redisCommands).sort(([, a], [, b]) => b - a)),
  };
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** CPU milliseconds per message; undefined where a process could not be measured. */
export interface PerMessageCpu {
  gatewayCpuMs: number;
  cassandraCpuMs: number | undefined;
  redisCpuMs: number | undefined;
}

/**
 * The per-message table: request counts for the whole run and for the message path, CPU for the
 * whole run only (a process's CPU cannot be split by what it worked on). `sends` must be > 0.
 */
export function formatPerMessage(sends: number, wholeRun: PerMessageRequests, messagePath: PerMessageRequests, cpu: PerMessageCpu): string {
  const value = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(2)).padStart(12);
  const line = (label: string, whole: number | undefined, path: number | undefined) => `${label.padEnd(46)} ${value(whole)} ${value(path)}`;
  // Commands of the message path, and any frequent one, get a row; the rest (handshakes, SCRIPT
  // LOAD, SUBSCRIBE: a few per connection) share one.
  const own = (name: string) => (messagePath.redisByCommand[name] ?? 0) > 0 || (wholeRun.redisByCommand[name] ?? 0) / sends >= 0.1;
  const [rowNames, otherNames] = partition(Object.keys(wholeRun.redisByCommand), own);
  const sumOf = (byCommand: Record<string, number>, names: string[]) =>
    names.reduce((sum, name) => sum + (byCommand[name] ?? 0), 0) / sends;
  return [
    `${`per message (÷ ${sends} core.chat.send calls)`.padEnd(46)} ${'whole run'.padStart(12)} ${'msg path'.padStart(12)}`,
    line('Cassandra requests (a batch is one)', wholeRun.cassandraRequests, messagePath.cassandraRequests),
    line('  statements (a batch counts each)', wholeRun.cassandraStatements, messagePath.cassandraStatements),
    line('  LWT requests (… IF …)', wholeRun.lwt, messagePath.lwt),
    line('  reads (SELECT)', wholeRun.reads, messagePath.reads),
    line('  plain writes (statements without IF)', wholeRun.plainWrites, messagePath.plainWrites),
    line('Redis commands', wholeRun.redisCommands, messagePath.redisCommands),
    ...rowNames.map((name) => line(`  ${name}`, sumOf(wholeRun.redisByCommand, [name]), sumOf(messagePath.redisByCommand, [name]))),
    ...(otherNames.length === 0
      ? []
      : [
          line(
            `  other (${otherNames.length} kinds, see --json)`,
            sumOf(wholeRun.redisByCommand, otherNames),
            sumOf(messagePath.redisByCommand, otherNames),
          ),
        ]),
    line('CPU ms, gateways (all, since ready)', cpu.gatewayCpuMs, undefined),
    line('CPU ms, Cassandra', cpu.cassandraCpuMs, undefined),
    line('CPU ms, Redis', cpu.redisCpuMs, undefined),
  ].join('\n');
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

/** What the two columns include, printed under the table and kept in the JSON. */
export const PER_MESSAGE_NOTE = [
  'whole run: every request the gateways made from start-up to stop (migrations, connects, device links, registry and',
  '  presence, inbox drains and sweeps, subscriptions, the start of teardown), divided by the sends.',
  'msg path: only what core.chat.send and core.receipts.delivered issued, incl. the once-per-conversation first-message',
  '  work (user lookup, user_conversations). Group-committed writes count in the scope of the call that opened the batch.',
  "Both columns include the load's warm-up sends (sends like the others). CPU: whole run only, from all gateways",
  '  ready to stop: connects and device links included.',
  'Not counted: driver-internal requests (PREPARE, metadata), Redis replies and pub/sub messages received.',
].join('\n');
