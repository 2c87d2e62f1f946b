/** A uniform source in [0, 1) (the run's seeded streams). */
export interface UniformSource {
  nextFloat(): number;
}

/**
 * The default window (ms) over which the cell's request rate is measured to drive the background
 * (the scenario's sim.cell_background_window_ms). What all cells share — the rate curve, a spike,
 * a crashed gateway's reconnect storm — reaches the background within this window; a shorter one
 * follows faster but adds noise of its own (a cell's rate over a short window is a rough estimate
 * of the whole deployment's, which is far smoother).
 */
export const BACKGROUND_WINDOW_MS = 1_000;

/** The window is kept as this many bins: it slides by a tenth of itself. */
const WINDOW_BINS = 10;

/** Sizes of this many of the cell's latest requests are what background requests are drawn from. */
const SIZE_SAMPLES = 4_096;

/**
 * The rest of the population's load on one pool of servers, for a cell run (simulator/README.md, "Cells": a sample
 * of the population with its share of the infrastructure). The cell runs on the whole
 * deployment's servers; the other cells' requests to those servers are generated as a Poisson
 * stream at `copies` times the cell's own request rate (measured over the last window), each
 * with the size of a request drawn from the cell's latest ones (a batch's request count, or a
 * frame's CPU milliseconds). So every server sees the whole deployment's utilisation and the
 * cell's requests queue behind everyone else's, while only the cell's own requests run the
 * real code and are checked.
 *
 * Why drawn, not copied: the other cells are independent of this one, and the superposition of
 * many independent streams is a Poisson stream. Copies of each cell request shifted in time
 * (tried first) turned one rare big request — a 256-member group's fan-out — into tens of big
 * requests within a second, a burst the whole deployment would not see; at 20 copies, peak-hour's
 * p99 came out 4.5× a run of every user. Drawn from the cell's recent sizes, a big request is as
 * rare in the background as it is in the cell.
 *
 * Background requests cost no scheduler event: they are generated, in time order, when the pool
 * next serves one of the cell's requests (`drainUntil`).
 */
export class BackgroundLoad {
  private readonly binMs: number;
  private readonly bins = new Float64Array(WINDOW_BINS);
  private bin = 0;
  private binStartMs = 0;
  private arrivalsInWindow = 0;
  private readonly sizes = new Float64Array(SIZE_SAMPLES);
  private sizeCount = 0;
  private sizeNext = 0;
  /** The next background arrival, or Infinity while the cell has sent nothing within the window. */
  private nextAtMs = Number.POSITIVE_INFINITY;
  /** Background requests generated so far. */
  generated = 0;

  constructor(
    /** Background requests per cell request: population ÷ cell − 1. */
    readonly copies: number,
    private readonly random: UniformSource,
    /** The cell's rate is measured over this long (ms). */
    readonly windowMs = BACKGROUND_WINDOW_MS,
  ) {
    if (!(copies >= 0) || !Number.isFinite(copies)) throw new Error(`background copies must be a finite number >= 0, got ${copies}`);
    if (!(windowMs > 0) || !Number.isFinite(windowMs))
      throw new Error(`background window must be a positive number of ms, got ${windowMs}`);
    this.binMs = windowMs / WINDOW_BINS;
  }

  /** The cell sent a request of `size` arriving at `atMs`. */
  echo(atMs: number, size: number): void {
    if (this.copies === 0) return;
    this.slideTo(atMs);
    this.bins[this.bin]! += 1;
    this.arrivalsInWindow++;
    this.sizes[this.sizeNext] = size;
    this.sizeNext = (this.sizeNext + 1) % SIZE_SAMPLES;
    if (this.sizeCount < SIZE_SAMPLES) this.sizeCount++;
    if (this.nextAtMs === Number.POSITIVE_INFINITY) this.nextAtMs = atMs + this.gapMs(atMs);
  }

  /** Hands every background request due by `untilMs` to `serve`, in time order. */
  drainUntil(untilMs: number, serve: (atMs: number, size: number) => void): void {
    while (this.nextAtMs <= untilMs) {
      const atMs = this.nextAtMs;
      this.slideTo(atMs);
      if (this.arrivalsInWindow === 0) {
        // The cell went quiet for a whole window (an outage, a crash): so did everyone else.
        this.nextAtMs = Number.POSITIVE_INFINITY;
        return;
      }
      this.generated++;
      serve(atMs, this.sizes[Math.floor(this.random.nextFloat() * this.sizeCount)]!);
      this.nextAtMs = atMs + this.gapMs(atMs);
    }
  }

  /** Drops the background due by `untilMs`: the servers were out, and the other cells' requests failed too. */
  discardUntil(untilMs: number): void {
    this.drainUntil(untilMs, () => undefined);
  }

  /** Forgets the measured rate (a crashed process: the other cells' connections on it are gone too). */
  clear(): void {
    this.bins.fill(0);
    this.arrivalsInWindow = 0;
    this.nextAtMs = Number.POSITIVE_INFINITY;
  }

  /** Exponential gap to the next background request at the rate measured up to `atMs` (Infinity at rate 0). */
  private gapMs(atMs: number): number {
    // The window covers its full bins and the current one up to now.
    const coveredMs = (WINDOW_BINS - 1) * this.binMs + Math.max(0, atMs - this.binStartMs);
    const ratePerMs = (this.copies * this.arrivalsInWindow) / coveredMs;
    if (ratePerMs <= 0) return Number.POSITIVE_INFINITY;
    return -Math.log(1 - this.random.nextFloat()) / ratePerMs;
  }

  /** Moves the window's end to `atMs` (never back: requests arrive nearly, not exactly, in order). */
  private slideTo(atMs: number): void {
    const binMs = this.binMs;
    if (atMs < this.binStartMs + binMs) return;
    if (atMs >= this.binStartMs + this.windowMs + binMs) {
      this.bins.fill(0);
      this.arrivalsInWindow = 0;
      this.binStartMs = Math.floor(atMs / binMs) * binMs;
      return;
    }
    while (atMs >= this.binStartMs + binMs) {
      this.binStartMs += binMs;
      this.bin = (this.bin + 1) % WINDOW_BINS;
      this.arrivalsInWindow -= this.bins[this.bin]!;
      this.bins[this.bin] = 0;
    }
  }
}
