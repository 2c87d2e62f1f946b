import { describe, expect, it } from 'vitest';
import { formatReportNumber } from './format-number.js';
import { renderHtmlReport } from './render-html-report.js';

describe('formatReportNumber', () => {
  it('keeps two significant digits below 1, so a small utilisation is not shown as 0', () => {
    expect(formatReportNumber(0.0035)).toBe('0.0035');
    expect(formatReportNumber(0.000012)).toBe('0.000012');
    expect(formatReportNumber(0.25)).toBe('0.25');
    expect(formatReportNumber(0)).toBe('0');
    expect(formatReportNumber(-0.004)).toBe('-0.004');
  });

  it('groups thousands and rounds larger values to the digits asked for', () => {
    expect(formatReportNumber(18_250)).toBe('18,250');
    expect(formatReportNumber(1234.567)).toBe('1,234.57');
    expect(formatReportNumber(12.345, 1)).toBe('12.3');
    expect(formatReportNumber(null)).toBe('n/a');
    expect(formatReportNumber(Number.NaN)).toBe('n/a');
  });

  it('is what report tables show', () => {
    const html = renderHtmlReport({
      title: 't',
      tables: [{ title: 'Simulator', columns: ['figure', 'value'], rows: [['cassandra utilisation', 0.0035]] }],
    });
    expect(html).toContain('<td class="num">0.0035</td>');
  });
});
