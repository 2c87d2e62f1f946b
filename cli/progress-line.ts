/*
 * The live progress line of the long-running commands (load driver, simulator, chaos drills):
 * on a terminal one line rewritten in place and never wider than the terminal (a wrapped line
 * cannot be rewritten, so it would scroll a line per update); in a redirected log or CI a plain
 * line every few seconds and no carriage returns.
 */

/** One part of a progress line. When the terminal is narrow, the lowest priority parts go first. */
export interface LineSegment {
  text: string;
  /** A shorter form, used (for every segment that has one) before any segment is left out. */
  short?: string;
  /** Higher stays longer; parts a reader needs at any width (errors, p99) get the highest. */
  priority: number;
}

/** Where progress goes: process.stderr, or a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export const PROGRESS_DEFAULTS = Object.freeze({
  /** A terminal that does not say how wide it is is taken to be this wide. */
  assumedColumns: 80,
  /** Seconds between plain lines when the stream is not a terminal. */
  plainEveryS: 5,
  separator: '  ',
});

const ELLIPSIS = '…';
/** ANSI "erase to the end of the line": what a shorter rewrite leaves of the longer one before it. */
const ERASE_TO_END = '\x1b[K';

/**
 * The segments joined in order, within `widthColumns`: in full if they fit, else in their short
 * forms, leaving out the lowest priority segments first (the last of equal priority first); if
 * the ones left still do not fit, the line is cut with an ellipsis.
 */
export function fitSegments(
  segments: readonly LineSegment[],
  widthColumns: number,
  separator: string = PROGRESS_DEFAULTS.separator,
): string {
  const full = segments.map((s) => s.text).join(separator);
  if (full.length <= widthColumns) return full;
  const kept = segments.map((s) => ({ text: s.short ?? s.text, priority: s.priority }));
  const join = () => kept.map((s) => s.text).join(separator);
  while (kept.length > 1 && join().length > widthColumns) {
    let drop = 0;
    for (let i = 1; i < kept.length; i++) if (kept[i]!.priority <= kept[drop]!.priority) drop = i;
    kept.splice(drop, 1);
  }
  const line = join();
  if (line.length <= widthColumns) return line;
  return widthColumns <= 1 ? line.slice(0, Math.max(0, widthColumns)) : `${line.slice(0, widthColumns - 1)}${ELLIPSIS}`;
}

export interface ProgressPrinter<T> {
  update(progress: T): void;
  /** Ends an in-place line (so what is printed next starts on a line of its own). */
  end(): void;
}

export interface ProgressPrinterOptions {
  /** Between segments (default PROGRESS_DEFAULTS.separator). */
  separator?: string;
  /** Seconds between plain lines off a terminal (default PROGRESS_DEFAULTS.plainEveryS). */
  plainEveryS?: number;
  /** Wall clock in ms (tests). */
  nowMs?: () => number;
}

/**
 * Prints progress to `stream`: rewritten in place within the terminal's width on a terminal, a
 * plain full line at most every `plainEveryS` seconds otherwise (the first update always prints).
 */
export function progressLinePrinter<T>(
  stream: ProgressStream,
  segmentsOf: (progress: T) => LineSegment[],
  options: ProgressPrinterOptions = {},
): ProgressPrinter<T> {
  const everyMs = (options.plainEveryS ?? PROGRESS_DEFAULTS.plainEveryS) * 1000;
  const now = options.nowMs ?? (() => performance.now());
  const separator: string = options.separator ?? PROGRESS_DEFAULTS.separator;
  let lastPlainAtMs = -Infinity;
  let inPlace = false;
  return {
    update(progress) {
      const segments = segmentsOf(progress);
      if (stream.isTTY) {
        // One column short of the width: a line that fills the last column wraps on some terminals.
        const width = (stream.columns && stream.columns > 0 ? stream.columns : PROGRESS_DEFAULTS.assumedColumns) - 1;
        stream.write(`\r${fitSegments(segments, width, separator)}${ERASE_TO_END}`);
        inPlace = true;
        return;
      }
      const at = now();
      if (at - lastPlainAtMs < everyMs) return;
      lastPlainAtMs = at;
      stream.write(`${segments.map((s) => s.text).join(separator)}\n`);
    },
    end() {
      if (inPlace) stream.write('\n');
      inPlace = false;
    },
  };
}
