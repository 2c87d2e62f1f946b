import type { ResolvedFault } from '../format/read-drill.js';
import type { FaultAction } from './fault-injector.js';

/** A fault as it really ran. Times are seconds from the start of the load's traffic phase. */
export interface FaultRecord {
  kind: string;
  target: string;
  how: string;
  planned_at_s: number;
  planned_heal_s: number | null;
  /** When injection began; null if it never did (the drill ended or aborted first). */
  at_s: number | null;
  /** When the heal completed (a restarted Cassandra is healed once healthy); null if never. */
  healed_s: number | null;
  recoveryFrom: FaultAction['recoveryFrom'];
  /** Injection or heal failed: the drill could not be carried out as written (exit 3). */
  error?: string;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Runs the fault schedule on real timers from a time origin: injects each fault at its at_s and
 * heals it duration_s later. Operations on one target run one after another, so a heal never
 * races the next injection on the same process. `healAll` (abort, end of run, error) heals
 * whatever is still active and cancels what has not started.
 */
export class FaultSchedule {
  readonly records: FaultRecord[];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly active = new Set<number>();
  private originMs = 0;
  private stopped = false;

  constructor(
    private readonly faults: readonly ResolvedFault[],
    private readonly actions: readonly FaultAction[],
    private readonly log: (line: string) => void = () => {},
    private readonly nowMs: () => number = Date.now,
  ) {
    this.records = faults.map((f, i) => ({
      kind: f.kind,
      target: f.target,
      how: actions[i]!.how,
      planned_at_s: f.at_s,
      planned_heal_s: actions[i]!.heal ? f.at_s + f.duration_s : null,
      at_s: null,
      healed_s: null,
      recoveryFrom: actions[i]!.recoveryFrom,
    }));
  }

  /** Starts the timers; `originMs` is the epoch time of t = 0 (may be slightly in the past). */
  start(originMs: number): void {
    this.originMs = originMs;
    this.faults.forEach((fault, i) => {
      this.after(fault.at_s, () => this.inject(i));
    });
  }

  private secondsNow(): number {
    return round1((this.nowMs() - this.originMs) / 1000);
  }

  private after(atS: number, run: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.stopped) run();
      },
      Math.max(0, this.originMs + atS * 1000 - this.nowMs()),
    );
    this.timers.add(timer);
  }

  /** Queues an operation behind earlier ones on the same target. */
  private onTarget(target: string, operation: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(target) ?? Promise.resolve()).then(operation);
    this.chains.set(
      target,
      next.catch(() => {}),
    );
    return next;
  }

  private inject(i: number): void {
    const record = this.records[i]!;
    const action = this.actions[i]!;
    void this.onTarget(record.target, async () => {
      if (this.stopped) return;
      record.at_s = this.secondsNow();
      this.log(`t=${record.at_s}s inject ${record.kind} on ${record.target}: ${record.how}`);
      try {
        await action.inject();
      } catch (error) {
        record.error = `inject: ${(error as Error).message}`;
        this.log(`t=${this.secondsNow()}s ${record.kind} on ${record.target} could not be injected: ${(error as Error).message}`);
        return;
      }
      if (!action.heal) return;
      this.active.add(i);
      this.after(this.faults[i]!.at_s + this.faults[i]!.duration_s, () => void this.heal(i));
    });
  }

  private heal(i: number): Promise<void> {
    if (!this.active.delete(i)) return Promise.resolve();
    const record = this.records[i]!;
    const heal = this.actions[i]!.heal!;
    return this.onTarget(record.target, async () => {
      this.log(`t=${this.secondsNow()}s heal ${record.kind} on ${record.target}`);
      try {
        await heal();
        record.healed_s = this.secondsNow();
        this.log(`t=${record.healed_s}s ${record.kind} on ${record.target} healed`);
      } catch (error) {
        record.error = `heal: ${(error as Error).message}`;
        this.log(`t=${this.secondsNow()}s ${record.kind} on ${record.target} could not be healed: ${(error as Error).message}`);
      }
    });
  }

  /** Cancels faults not yet injected and heals every active one; resolves when all are done. */
  async healAll(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    // Let injections already under way finish first, so their heal is not skipped.
    await Promise.all([...this.chains.values()]);
    await Promise.all([...this.active].map((i) => this.heal(i)));
  }
}
