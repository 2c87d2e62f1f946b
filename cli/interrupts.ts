import type { RunInterruption } from '../checker/run-summary.js';
import { INTERRUPTED_EXIT_CODES } from '../checker/run-summary.js';

/*
 * Ctrl-C (SIGINT) and a cancelled CI job (SIGTERM) must not lose a run: the first signal asks the
 * command to end its load early and go on as a run that ended (settle, check, every requested
 * output, marked interrupted); a second one exits at once, for a run that will not stop.
 */

export type InterruptSignal = RunInterruption['signal'];
const SIGNALS: readonly InterruptSignal[] = ['SIGINT', 'SIGTERM'];

/** What delivers signals (the process; an EventEmitter in tests). */
export interface SignalSource {
  on(signal: InterruptSignal, listener: () => void): unknown;
  off(signal: InterruptSignal, listener: () => void): unknown;
}

export interface InterruptWatchOptions {
  /** What the command does on the first signal, for the line it prints, e.g. "ending the traffic, settling and checking". */
  doing: string;
  /** Where the lines go (default process.stderr). */
  write?: (text: string) => void;
  /** Default process. */
  source?: SignalSource;
  /** Ends the process at once on the second signal (default process.exit). */
  exit?: (code: number) => void;
  /** Wall clock (ms) for `after_s` (default performance.now). */
  nowMs?: () => number;
}

export interface InterruptWatch {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** The first signal's interruption record, once one came; `phase` is the last one setPhase() was told. */
  interruption(): RunInterruption | undefined;
  /** Tells the watch which phase the run is in (for the record). */
  setPhase(phase: string): void;
  dispose(): void;
}

export function watchInterrupts(options: InterruptWatchOptions): InterruptWatch {
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const source: SignalSource = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const nowMs = options.nowMs ?? (() => performance.now());
  const startedMs = nowMs();
  const controller = new AbortController();
  let phase = 'setup';
  let record: RunInterruption | undefined;
  const listeners = SIGNALS.map((signal) => {
    const listener = () => {
      if (record) {
        write(`\n${signal} again: exiting at once; nothing more is written\n`);
        exit(INTERRUPTED_EXIT_CODES[signal]);
        return;
      }
      record = { signal, phase, after_s: Math.round((nowMs() - startedMs) / 100) / 10 };
      write(
        `\n${signal}: ${options.doing}; the outputs will say interrupted (${signal === 'SIGINT' ? 'Ctrl-C' : 'again'} to exit at once)\n`,
      );
      controller.abort();
    };
    source.on(signal, listener);
    return { signal, listener };
  });
  return {
    signal: controller.signal,
    interruption: () => record,
    setPhase: (next) => {
      phase = next;
    },
    dispose: () => {
      for (const { signal, listener } of listeners) source.off(signal, listener);
    },
  };
}
