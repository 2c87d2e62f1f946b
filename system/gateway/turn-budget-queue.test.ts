import { describe, expect, it } from 'vitest';
import { TurnBudgetQueue } from './turn-budget-queue.js';

/*
 * One connection's frames run a budget per turn of the event loop, in order; the rest wait for a
 * setImmediate, so other sockets' input (also setImmediate or I/O callbacks) gets in between.
 * The clock is injected: nothing here depends on the machine's speed.
 */

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recordingQueue(budget: { itemsPerTurnMax: number; turnMsMax: number }, nowMs: () => number = () => 0) {
  const hooks: string[] = [];
  const queue = new TurnBudgetQueue(budget, { backlogged: () => hooks.push('backlogged'), caughtUp: () => hooks.push('caughtUp') }, nowMs);
  return { queue, hooks };
}

describe('TurnBudgetQueue', () => {
  it('runs an item at once when the connection is within its budget', () => {
    const { queue } = recordingQueue({ itemsPerTurnMax: 4, turnMsMax: 1_000 });
    const ran: number[] = [];
    queue.push(() => ran.push(1));
    expect(ran).toEqual([1]);
  });

  it('runs at most itemsPerTurnMax per turn, in order, and lets another connection in between', async () => {
    const { queue, hooks } = recordingQueue({ itemsPerTurnMax: 3, turnMsMax: 1_000 });
    const ran: string[] = [];
    for (let i = 1; i <= 8; i++) queue.push(() => ran.push(`a${i}`));
    expect(ran).toEqual(['a1', 'a2', 'a3']);
    expect(hooks).toEqual(['backlogged']);
    // Another socket's input, arriving while the backlog waits, is not stuck behind it.
    setImmediate(() => ran.push('other'));
    await nextTurn();
    expect(ran).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'other']);
    await nextTurn();
    expect(ran).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'other', 'a7', 'a8']);
    expect(hooks).toEqual(['backlogged', 'caughtUp']);
  });

  it('ends a turn once turnMsMax has gone by, whatever the item count', async () => {
    let nowMs = 0;
    const { queue } = recordingQueue({ itemsPerTurnMax: 100, turnMsMax: 5 }, () => nowMs);
    const ran: number[] = [];
    // Each item takes 3 ms of the clock: the third would start after the budget is spent.
    for (let i = 1; i <= 5; i++) {
      queue.push(() => {
        ran.push(i);
        nowMs += 3;
      });
    }
    expect(ran).toEqual([1, 2]);
    await nextTurn();
    expect(ran).toEqual([1, 2, 3, 4]);
    await nextTurn();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
  });

  it('items pushed later in the same turn count against the same budget and never overtake', async () => {
    const { queue } = recordingQueue({ itemsPerTurnMax: 2, turnMsMax: 1_000 });
    const ran: number[] = [];
    queue.push(() => ran.push(1));
    queue.push(() => ran.push(2));
    queue.push(() => ran.push(3));
    queue.push(() => ran.push(4));
    expect(ran).toEqual([1, 2]);
    await nextTurn();
    expect(ran).toEqual([1, 2, 3, 4]);
    // Still the turn that ran 3 and 4: 5 waits for the next one.
    queue.push(() => ran.push(5));
    expect(ran).toEqual([1, 2, 3, 4]);
    await nextTurn();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    // A connection that was quiet for a whole turn is served at once again.
    await nextTurn();
    queue.push(() => ran.push(6));
    expect(ran).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a throwing item does not stop the ones after it', async () => {
    const { queue } = recordingQueue({ itemsPerTurnMax: 10, turnMsMax: 1_000 });
    const ran: number[] = [];
    queue.push(() => ran.push(1));
    expect(() =>
      queue.push(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    queue.push(() => ran.push(3));
    await nextTurn();
    expect(ran).toEqual([1, 3]);
  });
});
