/*
 * Self-contained HTML run reports shared by `npm run sim`, `npm run load` and `npm run chaos`
 * (their `--html FILE` option). See reports/README.md.
 */
export type { ChartPoint, ChartSeries, ChartThreshold, HtmlReportInput, ReportChart, ReportFault, ReportTable } from './report-input.js';
export { EXIT_CODE_MEANINGS, renderHtmlReport, renderTable } from './render-html-report.js';
export { writeHtmlReport } from './write-html-report.js';
export {
  TIME_SERIES_DEFAULTS,
  TimeSeriesRecorder,
  type RecorderChartOptions,
  type TimeSeriesRecorderOptions,
} from './time-series-recorder.js';
export { CHART_LAYOUT, chartXDomain, renderChartSvg, xPixelOf } from './svg-chart.js';
export { ReportErrorCodes, type ReportErrorCode } from './report-error-codes.js';
export { escapeText } from './escape.js';
export { formatReportNumber } from './format-number.js';
export { sloLatencyThresholds } from './slo-thresholds.js';
