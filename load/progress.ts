import type { LoadProgress } from './types.js';

const fmt = (n: number | null, digits = 1) => (n === null ? '-' : n.toFixed(digits));

/** One line of the live display, e.g. `traffic  12/30 s  conn 312/400  offered 40/s  sent 480 …`. */
export function formatProgress(p: LoadProgress): string {
  return (
    `${p.phase.padEnd(7)} ${String(Math.max(0, Math.round(p.elapsedS))).padStart(4)}/${p.durationS} s` +
    `  conn ${p.connections}/${p.devices}  offered ${fmt(p.offeredPerS)}/s  sent ${p.sent}  acked ${p.acked}` +
    `  delivered ${p.delivered}  errors ${p.errors}  deliver p99 (1 s) ${fmt(p.deliverP99MsWindow)} ms`
  );
}

/**
 * Progress on stderr: rewritten in place on a terminal, one line every `everyS` seconds otherwise
 * (CI logs stay short).
 */
export function progressPrinter(stream: NodeJS.WriteStream, everyS = 5): { update(p: LoadProgress): void; end(): void } {
  let lastPrintedS = -Infinity;
  let inPlace = false;
  return {
    update(p) {
      const line = formatProgress(p);
      if (stream.isTTY) {
        stream.write(`\r${line.slice(0, (stream.columns ?? 160) - 1).padEnd(Math.min(160, (stream.columns ?? 160) - 1))}`);
        inPlace = true;
      } else if (p.elapsedS - lastPrintedS >= everyS) {
        lastPrintedS = p.elapsedS;
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (inPlace) stream.write('\n');
      inPlace = false;
    },
  };
}
