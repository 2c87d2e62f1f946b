import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchInterrupts } from './interrupts.js';

function setUp() {
  const source = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  let nowMs = 1_000;
  const watch = watchInterrupts({
    doing: 'ending the load',
    source,
    write: (t) => lines.push(t),
    exit: (code) => exits.push(code),
    nowMs: () => nowMs,
  });
  return { source, lines, exits, watch, advance: (ms: number) => (nowMs += ms) };
}

describe('interrupts', () => {
  it('the first signal aborts the run and records when and in which phase; the second exits at once', () => {
    const { source, lines, exits, watch, advance } = setUp();
    watch.setPhase('traffic');
    advance(4_200);
    expect(watch.signal.aborted).toBe(false);
    source.emit('SIGINT');
    expect(watch.signal.aborted).toBe(true);
    expect(watch.interruption()).toEqual({ signal: 'SIGINT', phase: 'traffic', after_s: 4.2 });
    expect(lines.join('')).toContain('SIGINT: ending the load; the outputs will say interrupted (Ctrl-C to exit at once)');
    expect(exits).toEqual([]);
    watch.setPhase('settle');
    source.emit('SIGINT');
    expect(exits).toEqual([130]);
    // The record stays the first signal's.
    expect(watch.interruption()).toMatchObject({ signal: 'SIGINT', phase: 'traffic' });
    watch.dispose();
    expect(source.listenerCount('SIGINT')).toBe(0);
  });

  it('treats SIGTERM (a cancelled CI job) the same, with its own exit code', () => {
    const { source, exits, watch } = setUp();
    source.emit('SIGTERM');
    expect(watch.interruption()).toMatchObject({ signal: 'SIGTERM', phase: 'setup' });
    source.emit('SIGTERM');
    expect(exits).toEqual([143]);
  });
});
