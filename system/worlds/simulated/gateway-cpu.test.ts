import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../adapters/virtual/scheduler.js';
import { GatewayCpu } from './gateway-cpu.js';

describe('GatewayCpu', () => {
  it('runs nothing while paused, also a job queued before the pause was extended (swarm-small seed 8083)', async () => {
    // Two overlapping pauses of one gateway: a job queued to run when the first ended ran inside
    // the second, and a presence state it read then reached a watcher seconds late.
    const time = new Scheduler(1);
    const cpu = new GatewayCpu(time, 1);
    const ranAt: number[] = [];
    cpu.pauseUntil(1_000);
    cpu.run(1, () => ranAt.push(time.nowMs())); // due when the first pause ends
    time.schedule(500, () => cpu.pauseUntil(3_000)); // a second pause, overlapping
    time.schedule(4_000, () => cpu.run(1, () => ranAt.push(time.nowMs())));
    await time.run(10_000);
    expect(ranAt).toEqual([3_000, 4_001]);
  });
});
