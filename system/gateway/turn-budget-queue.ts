/** How much of one event-loop turn a single connection's inbound work may take. */
export interface TurnBudget {
  /** Most items run in one turn. */
  itemsPerTurnMax: number;
  /** Once this many ms have gone by in a turn, the next item waits for the next turn. */
  turnMsMax: number;
}

export interface TurnBudgetHooks {
  /** More than a turn's worth of items is waiting: stop reading the source until it clears. */
  backlogged(): void;
  /** Nothing waits any more: reading may resume. */
  caughtUp(): void;
}

/**
 * Runs one connection's inbound work (its frames, in the order they arrived) at most a budget per
 * turn of the event loop. What does not fit waits for a setImmediate, which lets every other
 * socket's input in first: a client sending costly frames as fast as it can then delays the
 * others by one budget per turn instead of by its whole burst. Items never overtake each other.
 */
export class TurnBudgetQueue {
  private waiting: Array<() => void> = [];
  private next = 0;
  private running = false;
  private turnOpen = false;
  private itemsThisTurn = 0;
  private turnStartedMs = 0;
  private backlogged = false;

  constructor(
    private readonly budget: TurnBudget,
    private readonly hooks: TurnBudgetHooks,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Items waiting for a later turn. */
  get backlog(): number {
    return this.waiting.length - this.next;
  }

  push(item: () => void): void {
    this.waiting.push(item);
    this.run();
    if (!this.backlogged && this.backlog > this.budget.itemsPerTurnMax) {
      this.backlogged = true;
      this.hooks.backlogged();
    }
  }

  private run(): void {
    // An item that pushes another (it should not, but) must not start a second loop beside this one.
    if (this.running) return;
    this.running = true;
    try {
      while (this.backlog > 0) {
        if (!this.turnOpen) this.openTurn();
        if (this.itemsThisTurn >= this.budget.itemsPerTurnMax || this.nowMs() - this.turnStartedMs >= this.budget.turnMsMax) return;
        const item = this.waiting[this.next]!;
        this.next++;
        this.itemsThisTurn++;
        item();
      }
    } finally {
      this.running = false;
      this.compact();
    }
  }

  /** A turn lasts until the event loop has given everyone else their go: setImmediate runs after pending I/O. */
  private openTurn(): void {
    this.turnOpen = true;
    this.itemsThisTurn = 0;
    this.turnStartedMs = this.nowMs();
    setImmediate(() => {
      this.turnOpen = false;
      this.run();
    });
  }

  private compact(): void {
    if (this.backlog === 0) {
      this.waiting = [];
      this.next = 0;
      if (this.backlogged) {
        this.backlogged = false;
        this.hooks.caughtUp();
      }
    } else if (this.next > 1024) {
      this.waiting = this.waiting.slice(this.next);
      this.next = 0;
    }
  }
}
