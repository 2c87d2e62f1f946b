import { describe, expect, it } from 'vitest';
import { ChatError } from '../core/errors.js';
import { defaultLimits } from '../core/limits.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { MemoryWriteAheadLog } from '../adapters/memory/memory-write-ahead-log.js';
import { silentLogger } from '../ports/logger.js';
import { noopMetrics } from '../ports/metrics.js';
import type { WalEntry } from '../ports/write-ahead-log.js';
import { WriteAhead, type ReplayOutcome } from './write-ahead.js';

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function draft(conversationId: string, clientMessageId: string) {
  return { conversationId, senderUserId: 'alice', senderDeviceId: 'phone', clientMessageId, bodyBase64: 'aGk=', acceptedAtMs: 0 };
}

describe('WriteAhead replay', () => {
  it('replays a conversation logged later while another conversation’s replay is still busy', async () => {
    const clock = new ManualClock();
    const replayed: string[] = [];
    let releaseSlow: (() => void) | undefined;
    const replay = async (entry: WalEntry): Promise<ReplayOutcome> => {
      // The first conversation's replay hangs (a store call stuck behind a busy owner, say).
      if (entry.conversationId === 'dm:a:b') await new Promise<void>((resolve) => (releaseSlow = resolve));
      replayed.push(entry.clientMessageId);
      return 'stored';
    };
    const writeAhead = new WriteAhead(
      { clock, limits: defaultLimits, metrics: noopMetrics, log: silentLogger, wal: new MemoryWriteAheadLog() },
      replay,
    );
    await writeAhead.append(draft('dm:a:b', 'slow-1'));
    await clock.advance(defaultLimits.walReplayRetryMs);
    await flush();
    expect(releaseSlow).toBeDefined(); // the first conversation's replay is under way and stuck

    await writeAhead.append(draft('dm:a:c', 'other-1'));
    await clock.advance(defaultLimits.walReplayRetryMs);
    await flush();
    expect(replayed).toEqual(['other-1']);
    expect(writeAhead.hasPending('dm:a:c')).toBe(false);

    releaseSlow!();
    await flush();
    expect(replayed).toEqual(['other-1', 'slow-1']);
    expect(writeAhead.pendingCount).toBe(0);
    await writeAhead.stop();
  });

  it('keeps an entry the store refused and replays it once the store answers, in log order', async () => {
    const clock = new ManualClock();
    let storeDown = true;
    const replayed: string[] = [];
    const replay = async (entry: WalEntry): Promise<ReplayOutcome> => {
      if (storeDown) throw new ChatError('STORAGE_UNAVAILABLE', 'down');
      replayed.push(entry.clientMessageId);
      return 'stored';
    };
    const writeAhead = new WriteAhead(
      { clock, limits: defaultLimits, metrics: noopMetrics, log: silentLogger, wal: new MemoryWriteAheadLog() },
      replay,
    );
    await writeAhead.append(draft('dm:a:b', 'm1'));
    await writeAhead.append(draft('dm:a:b', 'm2'));
    await clock.advance(defaultLimits.walReplayRetryMaxMs);
    await flush();
    expect(writeAhead.pendingCount).toBe(2);
    storeDown = false;
    await clock.advance(defaultLimits.walReplayRetryMaxMs);
    await flush();
    expect(replayed).toEqual(['m1', 'm2']);
    expect(writeAhead.pendingCount).toBe(0);
    await writeAhead.stop();
  });
});
