/**
 * Group commit against a fake driver client (no Cassandra needed): which writes share a batch,
 * how the caps split them, how errors reach the callers, and what Cql routes through it.
 */
import { describe, expect, it } from 'vitest';
import driver from 'cassandra-driver';
import type { Client } from 'cassandra-driver';
import { ChatError } from '../../core/errors.js';
import { resolveCassandraConfig } from './cassandra-config.js';
import { Cql, consistencyCode } from './cql.js';
import {
  GROUP_COMMIT_LIMITS,
  STATEMENT_OVERHEAD_BYTES,
  VALUE_OVERHEAD_BYTES,
  WriteCoalescer,
  estimateStatementBytes,
  type BatchingClient,
} from './write-coalescer.js';

const codes = driver.types.responseErrorCodes;

interface Statement {
  query: string;
  params: unknown[];
}

interface Call {
  kind: 'execute' | 'batch';
  statements: Statement[];
  options: Record<string, unknown>;
}

/** Records every request; `fail` decides the outcome of each (undefined = success). */
function fakeClient(fail: (call: Call) => unknown = () => undefined) {
  const calls: Call[] = [];
  const settle = async (call: Call) => {
    calls.push(call);
    await Promise.resolve();
    const error = fail(call);
    if (error) throw error;
    return { rows: [] };
  };
  const client = {
    execute: (query: string, params: unknown[], options: Record<string, unknown>) =>
      settle({ kind: 'execute', statements: [{ query, params }], options }),
    batch: (statements: Statement[], options: Record<string, unknown>) => settle({ kind: 'batch', statements, options }),
  };
  return {
    client: client as unknown as BatchingClient & Client,
    calls,
    batches: () => calls.filter((c) => c.kind === 'batch'),
    executes: () => calls.filter((c) => c.kind === 'execute'),
  };
}

const OPTIONS = { consistency: consistencyCode('LOCAL_QUORUM'), requestTimeoutMs: 1234 };
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteCoalescer', () => {
  it('sends the writes of one turn as one unlogged, idempotent batch, in order', async () => {
    const fake = fakeClient();
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    const writes = [1, 2, 3, 4, 5].map((i) => coalescer.write(`UPDATE t SET v = ? WHERE k = ?`, [i, `k${i}`]));
    expect(fake.calls).toHaveLength(0); // nothing before the turn ends
    expect(coalescer.pendingWrites).toBe(5);
    await Promise.all(writes);
    expect(fake.executes()).toHaveLength(0);
    expect(fake.batches()).toHaveLength(1);
    const [batch] = fake.batches();
    expect(batch!.statements.map((s) => s.params[0])).toEqual([1, 2, 3, 4, 5]);
    expect(batch!.options).toEqual({
      prepare: true,
      logged: false,
      consistency: OPTIONS.consistency,
      isIdempotent: true,
      readTimeout: 1234,
    });
    expect(coalescer.stats).toEqual({ batches: 1, batchedWrites: 5, singleWrites: 0 });
  });

  it('sends a lone write as a plain execute', async () => {
    const fake = fakeClient();
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    await coalescer.write('INSERT INTO t (k) VALUES (?)', ['a']);
    expect(fake.batches()).toHaveLength(0);
    expect(fake.executes()).toHaveLength(1);
    expect(fake.executes()[0]!.options).toEqual({ prepare: true, consistency: OPTIONS.consistency, isIdempotent: true, readTimeout: 1234 });
  });

  it('writes of different turns go in different requests', async () => {
    const fake = fakeClient();
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    const first = [coalescer.write('W ?', [1]), coalescer.write('W ?', [2])];
    await nextTurn();
    const second = [coalescer.write('W ?', [3]), coalescer.write('W ?', [4])];
    await Promise.all([...first, ...second]);
    expect(fake.batches().map((b) => b.statements.map((s) => s.params[0]))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('splits a turn at the statement cap', async () => {
    const fake = fakeClient();
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    const count = GROUP_COMMIT_LIMITS.batchStatementsMax * 2 + 3;
    await Promise.all(Array.from({ length: count }, (_, i) => coalescer.write('W ?', [i])));
    expect(fake.batches().map((b) => b.statements.length)).toEqual([
      GROUP_COMMIT_LIMITS.batchStatementsMax,
      GROUP_COMMIT_LIMITS.batchStatementsMax,
      3,
    ]);
    expect(fake.batches().flatMap((b) => b.statements.map((s) => s.params[0]))).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('splits a turn at the byte cap, and sends a statement above the cap alone as an execute', async () => {
    const fake = fakeClient();
    const coalescer = new WriteCoalescer(fake.client, { ...OPTIONS, limits: { batchBytesMax: 1000 } });
    const body = (n: number) => Buffer.alloc(n);
    // Each statement estimates at 32 + 2 × 16 + 8 + 250 = 322 bytes: three fit in 1000, a fourth does not.
    const writes = [
      ...[1, 2, 3, 4].map((i) => coalescer.write('W ?, ?', [i, body(250)])),
      coalescer.write('W ?, ?', [5, 'x'.repeat(2000)]), // above the cap
      ...[6, 7].map((i) => coalescer.write('W ?, ?', [i, body(250)])),
    ];
    await Promise.all(writes);
    expect(fake.batches().map((b) => b.statements.map((s) => s.params[0]))).toEqual([
      [1, 2, 3],
      [4, 6, 7],
    ]);
    expect(fake.executes().map((c) => c.statements[0]!.params[0])).toEqual([5]);
    for (const b of fake.batches())
      expect(b.statements.reduce((sum, s) => sum + estimateStatementBytes(s.params), 0)).toBeLessThanOrEqual(1000);
  });

  it('estimates statement bytes from strings (UTF-8), Buffers and fixed-size values', () => {
    expect(estimateStatementBytes([])).toBe(STATEMENT_OVERHEAD_BYTES);
    expect(estimateStatementBytes(['héllo', Buffer.alloc(100), 7, null, undefined])).toBe(
      STATEMENT_OVERHEAD_BYTES + 3 * VALUE_OVERHEAD_BYTES + 6 + 100 + 8,
    );
    expect(estimateStatementBytes([driver.types.Uuid.random()])).toBe(STATEMENT_OVERHEAD_BYTES + VALUE_OVERHEAD_BYTES + 16);
  });

  it('an outage reaches every caller of the batch as STORAGE_UNAVAILABLE, and only them', async () => {
    let failNext = true;
    const fake = fakeClient((call) => {
      if (call.kind !== 'batch' || !failNext) return undefined;
      failNext = false;
      return new driver.errors.ResponseError(codes.writeTimeout, 'Operation timed out - received only 0 responses.');
    });
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    const failed = await Promise.allSettled([1, 2, 3].map((i) => coalescer.write('UPDATE ks.t SET v = ? WHERE k = 1', [i])));
    await nextTurn();
    const fine = await Promise.allSettled([4, 5].map((i) => coalescer.write('UPDATE ks.t SET v = ? WHERE k = 1', [i])));
    for (const outcome of failed) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as ChatError;
      expect(error).toBeInstanceOf(ChatError);
      expect(error.code).toBe('STORAGE_UNAVAILABLE');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('UPDATE ks.t SET v');
      expect((error as { cause?: unknown }).cause).toBeInstanceOf(driver.errors.ResponseError);
    }
    expect(fine.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(fake.executes()).toHaveLength(0); // an outage is not retried statement by statement
  });

  it('a batch refused as a bug is re-sent statement by statement, so only the bad one fails', async () => {
    const bug = new driver.errors.ResponseError(codes.invalid, 'Invalid STRING constant');
    const fake = fakeClient((call) => (call.kind === 'batch' || call.statements[0]!.params[0] === 'bad' ? bug : undefined));
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    const outcomes = await Promise.allSettled(['a', 'bad', 'c'].map((v) => coalescer.write('W ?', [v])));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(bug); // a bug stays a plain driver error
    expect(fake.batches()).toHaveLength(1);
    expect(fake.executes()).toHaveLength(3);
  });

  it('flush sends what waits for the end of the turn and waits for batches in flight', async () => {
    const fake = fakeClient();
    const coalescer = new WriteCoalescer(fake.client, OPTIONS);
    let settled = 0;
    for (const i of [1, 2, 3]) void coalescer.write('W ?', [i]).then(() => settled++);
    await coalescer.flush();
    expect(fake.batches()).toHaveLength(1);
    expect(coalescer.pendingWrites).toBe(0);
    await Promise.resolve(); // the callers' continuations
    expect(settled).toBe(3);
    await coalescer.flush(); // nothing left: returns at once
    expect(fake.calls).toHaveLength(1);
  });

  it('refuses nonsense limits', () => {
    expect(() => new WriteCoalescer(fakeClient().client, { ...OPTIONS, limits: { batchStatementsMax: 0 } })).toThrow(/batchStatementsMax/);
    expect(() => new WriteCoalescer(fakeClient().client, { ...OPTIONS, limits: { batchBytesMax: 0 } })).toThrow(/batchBytesMax/);
  });
});

describe('Cql with group commit', () => {
  const settings = (groupCommit?: boolean) =>
    resolveCassandraConfig({
      contactPoints: ['127.0.0.1:19042'],
      localDataCenter: 'dc1',
      ...(groupCommit === undefined ? {} : { groupCommit }),
    });

  it('is on by default and batches idempotent writes', async () => {
    const fake = fakeClient();
    const cql = new Cql(fake.client, settings());
    await Promise.all([cql.write('W ?', [1], true), cql.write('W ?', [2], true)]);
    expect(fake.batches()).toHaveLength(1);
    expect(fake.batches()[0]!.options.consistency).toBe(consistencyCode('LOCAL_QUORUM'));
    expect(cql.groupCommitStats).toEqual({ batches: 1, batchedWrites: 2, singleWrites: 0 });
  });

  it('sends non-idempotent writes, LWTs and reads at once, each on its own', async () => {
    const fake = fakeClient();
    const cql = new Cql(fake.client, settings());
    const sent = [
      cql.write('W ?', [1], false),
      cql.write('W ?', [2], false),
      cql.lwt('INSERT … IF NOT EXISTS', [3]).then(() => undefined),
      cql.read('SELECT ?', [4]).then(() => undefined),
    ];
    expect(fake.executes()).toHaveLength(4); // already sent, before the turn ends
    await Promise.all(sent);
    expect(fake.batches()).toHaveLength(0);
    expect(fake.executes().map((c) => c.options.isIdempotent)).toEqual([false, false, false, true]);
  });

  it('sends every write on its own with groupCommit: false', async () => {
    const fake = fakeClient();
    const cql = new Cql(fake.client, settings(false));
    await Promise.all([cql.write('W ?', [1], true), cql.write('W ?', [2], true)]);
    expect(fake.batches()).toHaveLength(0);
    expect(fake.executes()).toHaveLength(2);
    expect(cql.groupCommitStats).toBeUndefined();
  });

  it('flush (called by the stores before closing the client) sends pending writes', async () => {
    const fake = fakeClient();
    const cql = new Cql(fake.client, settings());
    const writes = [cql.write('W ?', [1], true), cql.write('W ?', [2], true)];
    await cql.flush();
    expect(fake.batches()).toHaveLength(1);
    await Promise.all(writes);
  });

  it('rejects a groupCommit that is not a boolean', () => {
    expect(() => resolveCassandraConfig({ contactPoints: ['h'], localDataCenter: 'dc1', groupCommit: 'no' as unknown as boolean })).toThrow(
      /groupCommit/,
    );
  });
});
