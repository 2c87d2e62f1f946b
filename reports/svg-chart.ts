import { scaleLinear, scaleLog } from 'd3-scale';
import { area, line } from 'd3-shape';
import { escapeText } from './escape.js';
import type { ChartPoint, ReportChart, ReportFault } from './report-input.js';

/*
 * Static SVG line/area charts, rendered to a string on the server: d3-scale for the axes (nice
 * ticks, log scales) and d3-shape for the path data; no DOM, no script in the page.
 */

/** Pixel geometry of every chart; exported so tests (and callers placing overlays) can compute positions. */
export const CHART_LAYOUT = Object.freeze({
  widthPx: 880,
  heightPx: 260,
  marginLeftPx: 64,
  marginRightPx: 16,
  marginTopPx: 12,
  marginBottomPx: 36,
  xTicks: 8,
  yTicks: 5,
});

/** Colour-blind-friendly palette (Okabe–Ito order); series beyond it reuse colours with dashes. */
export const SERIES_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442'] as const;

const plotLeft = CHART_LAYOUT.marginLeftPx;
const plotRight = CHART_LAYOUT.widthPx - CHART_LAYOUT.marginRightPx;
const plotTop = CHART_LAYOUT.marginTopPx;
const plotBottom = CHART_LAYOUT.heightPx - CHART_LAYOUT.marginBottomPx;

/** The x range of a chart: from 0 (or the earliest point) to the latest point or fault time. */
export function chartXDomain(chart: ReportChart, faults: readonly ReportFault[]): [number, number] {
  let min = 0;
  let max = 0;
  for (const s of chart.series) {
    for (const [x] of s.points) {
      if (!Number.isFinite(x)) continue;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  for (const f of faults) for (const t of [f.at_s, f.healed_s, f.recovered_s]) if (t !== null && Number.isFinite(t) && t > max) max = t;
  return [min, max > min ? max : min + 1];
}

/** Pixel x of a time on a chart whose x domain is `domain` (the same mapping the renderer uses). */
export function xPixelOf(timeS: number, domain: readonly [number, number]): number {
  return scaleLinear().domain(domain).range([plotLeft, plotRight])(timeS);
}

function usable(point: ChartPoint, yLog: boolean): point is [number, number] {
  const [x, y] = point;
  return Number.isFinite(x) && y !== null && Number.isFinite(y) && (!yLog || y > 0);
}

function yScaleFor(chart: ReportChart) {
  const yLog = chart.yLog === true;
  let min = Infinity;
  let max = -Infinity;
  for (const s of chart.series) {
    for (const p of s.points) {
      if (!usable(p, yLog)) continue;
      if (p[1] < min) min = p[1];
      if (p[1] > max) max = p[1];
    }
  }
  // A threshold is only worth drawing where the reader can see it, even above every point.
  for (const t of chart.thresholds ?? []) {
    if (yLog && !(t.value > 0)) continue;
    if (t.value < min) min = t.value;
    if (t.value > max) max = t.value;
  }
  if (yLog) {
    if (!Number.isFinite(min)) return scaleLog().domain([1, 10]).range([plotBottom, plotTop]);
    const lo = Math.pow(10, Math.floor(Math.log10(min)));
    const hi = Math.pow(10, Math.ceil(Math.log10(max)));
    return scaleLog()
      .domain([lo, hi > lo ? hi : lo * 10])
      .range([plotBottom, plotTop]);
  }
  if (!Number.isFinite(min)) return scaleLinear().domain([0, 1]).range([plotBottom, plotTop]);
  // Rates, depths and latencies read best from a zero baseline.
  const lo = Math.min(0, min);
  const hi = max > lo ? max : lo + 1;
  return scaleLinear().domain([lo, hi]).nice(CHART_LAYOUT.yTicks).range([plotBottom, plotTop]);
}

/** Runs at least this long get clock-style time ticks (m:ss, or h:mm past an hour) instead of seconds. */
const CLOCK_AXIS_FROM_S = 600;
/** Tick steps a clock-style axis chooses from, in seconds: whole minutes, quarters and hours. */
const CLOCK_TICK_STEPS_S = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/**
 * The x axis: seconds with nice ticks for short runs; for long ones (an hour of peak traffic) ticks
 * on whole minutes or hours, labelled m:ss or h:mm, which a reader can place in the run at a glance.
 */
export function timeAxis(
  domain: readonly [number, number],
  tickCount = CHART_LAYOUT.xTicks,
): { ticks: number[]; format: (s: number) => string; label: string } {
  const span = domain[1] - domain[0];
  if (span < CLOCK_AXIS_FROM_S) {
    return { ticks: scaleLinear().domain(domain).ticks(tickCount), format: formatTick, label: 'seconds' };
  }
  const step = CLOCK_TICK_STEPS_S.find((s) => span / s <= tickCount) ?? CLOCK_TICK_STEPS_S[CLOCK_TICK_STEPS_S.length - 1]!;
  const ticks: number[] = [];
  for (let t = Math.ceil(domain[0] / step) * step; t <= domain[1]; t += step) ticks.push(t);
  const hours = domain[1] >= 3600;
  const two = (n: number) => String(n).padStart(2, '0');
  const format = (s: number) =>
    hours ? `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}` : `${Math.floor(s / 60)}:${two(Math.round(s % 60))}`;
  return { ticks, format, label: hours ? 'time (h:mm)' : 'time (m:ss)' };
}

/** Compact tick labels: 1200 → 1.2k, 2500000 → 2.5M, 0.25 → 0.25. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  const trim = (n: number) => String(Number(n.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  return trim(value);
}

const round = (n: number) => Math.round(n * 10) / 10;

function faultOverlay(faults: readonly ReportFault[], domain: [number, number]): string {
  const parts: string[] = [];
  for (const f of faults) {
    const label = escapeText(`${f.kind} ${f.target}`);
    const x0 = round(xPixelOf(f.at_s, domain));
    // A fault that never healed runs to the end of the chart.
    const x1 = round(xPixelOf(f.healed_s ?? domain[1], domain));
    parts.push(
      `<rect class="fault-band" data-fault="${label}" data-at-s="${escapeText(f.at_s)}" x="${x0}" y="${plotTop}" width="${Math.max(1, round(x1 - x0))}" height="${plotBottom - plotTop}"><title>${label}: ${f.at_s}s → ${f.healed_s === null ? 'not healed' : `${f.healed_s}s`}</title></rect>`,
    );
    // The fault's name at the top of its band, so a printed or screenshotted chart still says what it was.
    parts.push(`<text class="fault-label" x="${x0 + 3}" y="${plotTop + 11}">${label}</text>`);
    if (f.recovered_s !== null) {
      const xr = round(xPixelOf(f.recovered_s, domain));
      parts.push(
        `<line class="recovery-marker" data-recovered-s="${escapeText(f.recovered_s)}" x1="${xr}" x2="${xr}" y1="${plotTop}" y2="${plotBottom}"><title>${label} recovered at ${f.recovered_s}s</title></line>`,
      );
    }
  }
  return parts.join('');
}

/** One chart as an inline <svg> element (with a legend row), fault bands and recovery markers drawn under the series. */
export function renderChartSvg(chart: ReportChart, faults: readonly ReportFault[] = []): string {
  const yLog = chart.yLog === true;
  const domain = chartXDomain(chart, faults);
  const x = scaleLinear().domain(domain).range([plotLeft, plotRight]);
  const y = yScaleFor(chart);
  const [yMin] = y.domain() as [number, number];
  const out: string[] = [];
  out.push(
    `<svg class="chart" viewBox="0 0 ${CHART_LAYOUT.widthPx} ${CHART_LAYOUT.heightPx}" role="img" aria-label="${escapeText(chart.title)}">`,
  );
  // Axes and grid first, then the fault bands over the grid, then the series over everything.
  const yTicks = yLog ? y.ticks(CHART_LAYOUT.yTicks).filter((t) => Math.abs(Math.log10(t) % 1) < 1e-9) : y.ticks(CHART_LAYOUT.yTicks);
  for (const t of yTicks) {
    const py = round(y(t));
    out.push(`<line class="grid" x1="${plotLeft}" x2="${plotRight}" y1="${py}" y2="${py}"/>`);
    out.push(`<text class="tick" x="${plotLeft - 6}" y="${py + 4}" text-anchor="end">${escapeText(formatTick(t))}</text>`);
  }
  const xAxis = timeAxis(domain);
  for (const t of xAxis.ticks) {
    const px = round(x(t));
    out.push(`<line class="axis" x1="${px}" x2="${px}" y1="${plotBottom}" y2="${plotBottom + 4}"/>`);
    out.push(`<text class="tick" x="${px}" y="${plotBottom + 16}" text-anchor="middle">${escapeText(xAxis.format(t))}</text>`);
  }
  out.push(`<line class="axis" x1="${plotLeft}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}"/>`);
  out.push(`<line class="axis" x1="${plotLeft}" x2="${plotLeft}" y1="${plotTop}" y2="${plotBottom}"/>`);
  out.push(
    `<text class="axis-label" x="${(plotLeft + plotRight) / 2}" y="${CHART_LAYOUT.heightPx - 4}" text-anchor="middle">${xAxis.label}</text>`,
  );
  out.push(
    `<text class="axis-label" transform="translate(12 ${(plotTop + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escapeText(chart.unit)}${yLog ? ' (log)' : ''}</text>`,
  );
  out.push(faultOverlay(faults, domain));
  for (const t of chart.thresholds ?? []) {
    if (yLog && !(t.value > 0)) continue;
    const py = round(y(t.value));
    out.push(
      `<line class="threshold" data-threshold="${escapeText(t.value)}" x1="${plotLeft}" x2="${plotRight}" y1="${py}" y2="${py}"><title>${escapeText(t.label)}</title></line>`,
    );
    out.push(`<text class="threshold-label" x="${plotRight - 4}" y="${py - 4}" text-anchor="end">${escapeText(t.label)}</text>`);
  }
  const defined = (p: ChartPoint) => usable(p, yLog);
  const linePath = line<ChartPoint>()
    .defined(defined)
    .x((p) => round(x(p[0])))
    .y((p) => round(y(p[1] as number)));
  const areaPath = area<ChartPoint>()
    .defined(defined)
    .x((p) => round(x(p[0])))
    .y0(round(y(yLog ? yMin : Math.max(0, yMin))))
    .y1((p) => round(y(p[1] as number)));
  chart.series.forEach((s, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    const dash = i >= SERIES_COLOURS.length ? ' stroke-dasharray="6 3"' : '';
    const points = [...s.points].sort((a, b) => a[0] - b[0]);
    if (chart.area === true) {
      const d = areaPath(points);
      if (d) out.push(`<path class="series-area" fill="${colour}" d="${d}"/>`);
    }
    const d = linePath(points);
    if (d) out.push(`<path class="series" data-series="${escapeText(s.name)}" stroke="${colour}"${dash} d="${d}"/>`);
    // A lone point between gaps draws no line segment: mark it so it stays visible.
    points.forEach((p, j) => {
      if (!defined(p)) return;
      const prev = points[j - 1];
      const next = points[j + 1];
      if ((prev === undefined || !defined(prev)) && (next === undefined || !defined(next))) {
        out.push(`<circle class="series-dot" fill="${colour}" cx="${round(x(p[0]))}" cy="${round(y(p[1] as number))}" r="2.5"/>`);
      }
    });
  });
  out.push('</svg>');
  const legend = [
    ...chart.series.map(
      (s, i) =>
        `<span class="legend-item"><span class="swatch" style="background:${SERIES_COLOURS[i % SERIES_COLOURS.length]}"></span>${escapeText(s.name)}</span>`,
    ),
    ...(chart.thresholds ?? []).map(
      (t) => `<span class="legend-item"><span class="swatch threshold-swatch"></span>${escapeText(t.label)}</span>`,
    ),
  ].join('');
  const empty = chart.series.every((s) => !s.points.some(defined)) ? '<p class="empty">no data points</p>' : '';
  return `<figure class="chart-figure"><figcaption>${escapeText(chart.title)} <span class="unit">(${escapeText(chart.unit)})</span></figcaption>${out.join('')}<div class="legend">${legend}</div>${empty}</figure>`;
}
