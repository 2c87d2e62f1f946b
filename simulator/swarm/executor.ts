import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../../scenarios/format/index.js';
import { seedOutcome, type SeedOutcome, type SeedRun } from './run-seed.js';

/** Runs seeds: in this process one at a time, or in a pool of worker processes. */
export interface SeedExecutor {
  /** How many seeds run at once. */
  readonly size: number;
  run(job: SeedRun): Promise<SeedOutcome>;
  close(): Promise<void>;
}

/**
 * One seed at a time in this process (tests, `--parallel 1` without workers). Runs never overlap:
 * two simulations interleaved on one event loop would still be correct, but slower and harder to read.
 */
export function inProcessExecutor(scenario: Scenario): SeedExecutor {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    size: 1,
    run(job) {
      const next = tail.then(() => seedOutcome(scenario, job));
      tail = next.catch(() => undefined);
      return next;
    },
    close: () => Promise.resolve(),
  };
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'swarm-worker.ts');

export interface PoolOptions {
  size: number;
  scenario: Scenario;
  /** A seed still running after this long is taken as hung: its worker is stopped and the seed reported (`simulator-timeout`). */
  seedTimeoutMs: number;
  /** A worker is replaced after this many seeds (bounds whatever a long-lived process accumulates). */
  seedsPerWorker: number;
}

/** What a worker process is told and answers (simulator/swarm/swarm-worker.ts). */
export type ToWorker = { type: 'init'; scenario: Scenario } | { type: 'run'; id: number; job: SeedRun };
export type FromWorker = { type: 'done'; id: number; outcome: SeedOutcome };

interface Pending {
  id: number;
  job: SeedRun;
  resolve: (o: SeedOutcome) => void;
}

interface Worker {
  child: ChildProcess;
  busy?: Pending & { timer: NodeJS.Timeout };
  seeds: number;
  gone: boolean;
}

/**
 * A pool of worker processes (node --import tsx simulator/swarm/swarm-worker.ts), each running
 * one seed at a time; child processes rather than threads, so a seed that hangs or runs out of
 * memory takes only its own worker down (the seed is reported and a new worker takes its place).
 */
export function workerPoolExecutor(options: PoolOptions): SeedExecutor {
  const queue: Pending[] = [];
  const workers: Worker[] = [];
  let nextId = 1;
  let closed = false;

  const spawnWorker = (): Worker => {
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const worker: Worker = { child, seeds: 0, gone: false };
    child.send({ type: 'init', scenario: options.scenario } satisfies ToWorker);
    child.on('message', (message: FromWorker) => {
      const busy = worker.busy;
      if (message.type !== 'done' || !busy || busy.id !== message.id) return;
      clearTimeout(busy.timer);
      worker.busy = undefined;
      busy.resolve(message.outcome);
      if (worker.seeds >= options.seedsPerWorker) retire(worker);
      pump();
    });
    child.on('exit', (code, signal) => {
      worker.gone = true;
      const index = workers.indexOf(worker);
      if (index >= 0) workers.splice(index, 1);
      const busy = worker.busy;
      if (busy) {
        clearTimeout(busy.timer);
        worker.busy = undefined;
        busy.resolve(
          failure(busy.job, 'simulator-error', `the worker process running seed ${busy.job.seed} exited (${signal ?? `code ${code}`})`),
        );
      }
      pump();
    });
    workers.push(worker);
    return worker;
  };

  const retire = (worker: Worker) => {
    const index = workers.indexOf(worker);
    if (index >= 0) workers.splice(index, 1);
    worker.gone = true;
    worker.child.disconnect();
  };

  const pump = () => {
    if (closed) return;
    while (queue.length > 0) {
      let worker = workers.find((w) => !w.busy && !w.gone);
      if (!worker && workers.length < options.size) worker = spawnWorker();
      if (!worker) return;
      const pending = queue.shift()!;
      const w = worker;
      const timer = setTimeout(() => {
        if (w.busy?.id !== pending.id) return;
        w.busy = undefined;
        w.gone = true;
        pending.resolve(
          failure(
            pending.job,
            'simulator-timeout',
            `seed ${pending.job.seed} ran longer than ${options.seedTimeoutMs / 1000} s of wall time; its worker was stopped`,
          ),
        );
        w.child.kill('SIGKILL');
      }, options.seedTimeoutMs);
      w.busy = { ...pending, timer };
      w.seeds++;
      w.child.send({ type: 'run', id: pending.id, job: pending.job } satisfies ToWorker);
    }
  };

  return {
    size: options.size,
    run(job) {
      return new Promise<SeedOutcome>((resolve) => {
        queue.push({ id: nextId++, job, resolve });
        pump();
      });
    },
    async close() {
      closed = true;
      const exits = workers.map(
        (w) =>
          new Promise<void>((resolve) =>
            w.child.exitCode !== null || w.child.signalCode !== null ? resolve() : w.child.once('exit', () => resolve()),
          ),
      );
      for (const w of [...workers]) if (w.child.connected) w.child.disconnect();
      await Promise.all(exits);
    },
  };
}

function failure(job: SeedRun, invariant: string, message: string): SeedOutcome {
  return { seed: job.seed, faults: job.schedule.length, failed: true, invariants: [invariant], message, exitCode: 3, wallMs: 0 };
}
