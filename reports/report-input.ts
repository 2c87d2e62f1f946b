import type { RunSummary } from '../checker/run-summary.js';

/*
 * What a command hands the HTML report renderer. Plain data (JSON-compatible) so a command can also
 * write it to disk and render it later. Times on charts are seconds from the start of the run
 * (simulated seconds in the simulator, wall seconds in the live driver and drills).
 */

/** One point of a series: x in seconds from the run's start, y in the chart's unit; null = no data (a gap in the line). */
export type ChartPoint = [xS: number, y: number | null];

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface ReportChart {
  title: string;
  /** Unit of the y axis, shown in the axis label, e.g. "ms", "msgs/s", "events". */
  unit: string;
  series: ChartSeries[];
  /** Logarithmic y axis (latency with a long tail); points with y <= 0 are left out. */
  yLog?: boolean;
  /** Fill the area under each series (depths, throughput). Default: lines only. */
  area?: boolean;
  /**
   * Horizontal reference lines in the chart's unit, drawn dashed and labelled: an SLO target on a
   * latency chart, full utilisation on a utilisation chart. The y axis always reaches them.
   */
  thresholds?: ChartThreshold[];
}

export interface ChartThreshold {
  /** Shown beside the line, e.g. "SLO deliver p99 < 200 ms". */
  label: string;
  value: number;
}

/** A fault as it ran, the same shape as RunSummary.faults: healed/recovered are null when they never happened. */
export interface ReportFault {
  kind: string;
  target: string;
  at_s: number;
  healed_s: number | null;
  recovered_s: number | null;
}

export interface ReportTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface HtmlReportInput {
  title: string;
  /**
   * The run's summary (checker/run-summary.ts). Optional only for pages that are not runs (the
   * capacity plan); every run report should pass it: the verdict, figures, SLOs and invariants come from it.
   */
  summary?: RunSummary;
  /**
   * The exit code the command will return, when it differs from what the summary implies
   * (3 = the run could not be carried out). Default: exitCodeOf(summary).
   */
  exitCode?: number;
  /**
   * What the figures stand for, in a sentence shown right under the title, when the page's own
   * numbers could mislead (a simulated cell of a larger population).
   */
  scope?: string;
  /** Why the run could not be carried out (shown with exit code 3). */
  error?: string;
  charts?: ReportChart[];
  /** Drawn as shaded bands (at → healed) and recovery markers on every chart, and as a timeline. Default: summary.faults. */
  faults?: ReportFault[];
  tables?: ReportTable[];
  notes?: string[];
}
