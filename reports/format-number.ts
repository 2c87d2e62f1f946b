/**
 * A figure as the report shows it: integers with thousands separators, other values with at most
 * `fractionDigits` decimals, except values below 1, which keep two significant digits: a
 * utilisation of 0.0035 is not "0", and 0 is only shown for a real zero.
 */
export function formatReportNumber(value: number | null | undefined, fractionDigits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) < 1) return value.toLocaleString('en-US', { maximumSignificantDigits: 2 });
  return value.toLocaleString('en-US', { maximumFractionDigits: fractionDigits });
}
