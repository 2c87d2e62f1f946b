/**
 * Multi-window, multi-burn-rate alerting as in the Google SRE Workbook ("Alerting on SLOs",
 * recommended parameters for a 30-day SLO period). A burn rate of 1 spends exactly the error
 * budget over the period; 14.4 spends 2% of it in one hour. Each condition needs both windows
 * above the threshold: the long one proves the burn is significant, the short one that it is
 * still going on, so the alert resolves minutes after the problem does.
 */

export const SLO_PERIOD_DAYS = 30;

export type Severity = 'page' | 'ticket';

export interface BurnRateCondition {
  severity: Severity;
  /** Error ratio = burnRate × (1 − objective). */
  burnRate: number;
  longWindow: string;
  shortWindow: string;
}

export const BURN_RATE_CONDITIONS: readonly BurnRateCondition[] = [
  { severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m' }, // 2% of the budget spent in 1 hour
  { severity: 'page', burnRate: 6, longWindow: '6h', shortWindow: '30m' }, // 5% in 6 hours
  { severity: 'ticket', burnRate: 1, longWindow: '3d', shortWindow: '6h' }, // 10% in 3 days
];

/** Every window some condition reads, shortest first; each gets a recorded error ratio. */
export const RECORDED_WINDOWS: readonly string[] = ['5m', '30m', '1h', '6h', '3d'];

/**
 * Windows of hours and days are recorded by a slower group: a 3-day rate() read every 5 s would
 * scan three days of samples 17,280 times a day for a value that moves over minutes.
 */
export const LONG_WINDOWS: readonly string[] = ['6h', '3d'];
export const LONG_WINDOW_EVALUATION_INTERVAL = '1m';
