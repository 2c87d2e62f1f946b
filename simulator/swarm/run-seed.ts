import type { Scenario } from '../../scenarios/format/index.js';
import { runSimulation, type SimResult } from '../run-simulation.js';
import { plantedBugNamed } from './planted-bugs.js';
import { scenarioWithSchedule, type SwarmFault } from './schedule.js';

/** What the swarm needs to know of one run: did it fail, and how. */
export interface SeedOutcome {
  seed: number;
  /** Entries of the schedule that ran. */
  faults: number;
  failed: boolean;
  /**
   * What failed, sorted: the checker's invariants that were violated, `liveness` when the online
   * devices had not caught up within the bound after healing, `simulator-error` when the run threw.
   */
  invariants: string[];
  /** The first violation's message (or the error, or the liveness note). */
  message?: string;
  exitCode: number;
  traceHash?: string;
  wallMs: number;
}

export interface SeedRun {
  seed: number;
  schedule: readonly SwarmFault[];
  plantBug?: string | undefined;
}

/** Invariants a failing run broke (see SeedOutcome.invariants). */
export function failedInvariantsOf(result: Pick<SimResult, 'violations' | 'summary'>): string[] {
  const names = new Set<string>(result.violations.map((v) => v.invariant));
  const liveness = (result.summary.sim as { liveness?: { converged?: boolean } } | undefined)?.liveness;
  if (liveness && liveness.converged === false) names.add('liveness');
  return [...names].sort();
}

/** Runs one seed of the scenario with the given schedule (the whole drawn one, or a part of it while shrinking). */
export async function runSeed(scenario: Scenario, run: SeedRun, reproduce?: (seed: number) => string): Promise<SimResult> {
  const bug = run.plantBug !== undefined ? plantedBugNamed(run.plantBug) : undefined;
  return runSimulation({
    scenario: scenarioWithSchedule(scenario, run.schedule),
    seed: run.seed,
    ...(reproduce ? { reproduceCommand: reproduce } : {}),
    ...(bug ? { plant: bug.plant } : {}),
  });
}

/**
 * Rejections nobody handled while a seed ran. A gateway process would die of one (Node's default
 * for an unhandled rejection is to exit), so a seed that leaves one fails as `unhandled-rejection`;
 * the swarm itself goes on. Seeds run one at a time per process, so each is the current seed's.
 */
let unhandled: unknown[] = [];
let listening = false;
function listenForUnhandledRejections(): void {
  if (listening) return;
  listening = true;
  process.on('unhandledRejection', (reason) => {
    unhandled.push(reason);
  });
}

function describeRejection(reason: unknown): string {
  const error = reason as { stack?: string; message?: string } | undefined;
  return `a promise rejected with nobody to handle it (a real gateway process would exit): ${error?.stack ?? error?.message ?? String(reason)}`;
}

/** runSeed, reduced to its outcome; a run that throws, or leaves a rejection unhandled, is a failure of its own kind. */
export async function seedOutcome(scenario: Scenario, run: SeedRun): Promise<SeedOutcome> {
  const started = performance.now();
  listenForUnhandledRejections();
  unhandled = [];
  try {
    const result = await runSeed(scenario, run);
    // Rejections surface a turn after they happen.
    await new Promise((resolve) => setImmediate(resolve));
    const invariants = failedInvariantsOf(result);
    if (unhandled.length > 0) invariants.push('unhandled-rejection');
    invariants.sort();
    const first = result.violations[0];
    const message = first
      ? `[${first.invariant}] ${first.message}`
      : unhandled.length > 0
        ? describeRejection(unhandled[0])
        : invariants.includes('liveness')
          ? result.notes.find((n) => n.startsWith('liveness'))
          : undefined;
    return {
      seed: run.seed,
      faults: run.schedule.length,
      failed: invariants.length > 0,
      invariants,
      ...(message !== undefined ? { message } : {}),
      exitCode: result.exitCode,
      traceHash: result.traceHash,
      wallMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    return {
      seed: run.seed,
      faults: run.schedule.length,
      failed: true,
      invariants: ['simulator-error'],
      message: (error as Error)?.stack ?? String(error),
      exitCode: 3,
      wallMs: Math.round(performance.now() - started),
    };
  }
}
