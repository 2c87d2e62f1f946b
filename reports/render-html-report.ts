import { ExitCodes, exitCodeOf, INTERRUPTED_EXIT_CODES, type RunSummary } from '../checker/run-summary.js';
import { escapeText } from './escape.js';
import { formatReportNumber } from './format-number.js';
import type { HtmlReportInput, ReportChart, ReportFault, ReportTable } from './report-input.js';
import { REPORT_CSS } from './report-styles.js';
import { CHART_LAYOUT, chartXDomain, renderChartSvg, xPixelOf } from './svg-chart.js';

/*
 * One self-contained HTML page per run: inline CSS, inline SVG, no scripts and no external
 * resources, so it can be attached to a CI job or mailed and opened anywhere. Pure: the same input
 * gives the same bytes (no timestamps), which keeps reports diffable and tests exact.
 */

/** What each exit code means (docs/summaries.md); shown on every page. */
export const EXIT_CODE_MEANINGS: Readonly<Record<number, string>> = Object.freeze({
  [ExitCodes.OK]: 'every invariant and SLO holds',
  [ExitCodes.INVARIANT_VIOLATED]: 'an invariant was violated',
  [ExitCodes.SLO_MISSED]: 'an SLO was missed',
  [ExitCodes.COULD_NOT_RUN]: 'the run could not be carried out',
  [INTERRUPTED_EXIT_CODES.SIGINT]: 'interrupted (SIGINT): the part that ran was settled, checked and reported',
  [INTERRUPTED_EXIT_CODES.SIGTERM]: 'interrupted (SIGTERM): the part that ran was settled, checked and reported',
});

const INTERRUPTED_CODES: ReadonlySet<number> = new Set(Object.values(INTERRUPTED_EXIT_CODES));

const SHARED_KEYS = new Set([
  'kind',
  'scenario',
  'seed',
  'users',
  'devices',
  'messages',
  'latency_ms',
  'invariants',
  'slo',
  'faults',
  'wall_s',
]);

const fmt = formatReportNumber;

function cell(value: string | number): string {
  return typeof value === 'number' ? `<td class="num">${escapeText(fmt(value))}</td>` : `<td>${escapeText(value)}</td>`;
}

export function renderTable(table: ReportTable): string {
  const head = table.columns.map((c) => `<th>${escapeText(c)}</th>`).join('');
  const body = table.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('');
  return `<h3>${escapeText(table.title)}</h3><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function verdictSection(input: HtmlReportInput): string {
  const summary = input.summary;
  const code = input.exitCode ?? (summary ? exitCodeOf(summary) : undefined);
  let html: string;
  if (code === undefined) {
    html = `<div class="verdict none"><span class="badge">NO VERDICT</span><span>this page is not a run</span></div>`;
  } else {
    const label =
      code === ExitCodes.OK
        ? 'PASS'
        : code === ExitCodes.COULD_NOT_RUN
          ? 'COULD NOT RUN'
          : INTERRUPTED_CODES.has(code)
            ? 'INTERRUPTED'
            : 'FAIL';
    const meaning = EXIT_CODE_MEANINGS[code] ?? 'unknown exit code';
    const tone = code === ExitCodes.OK ? 'pass' : INTERRUPTED_CODES.has(code) ? 'interrupted' : 'fail';
    html = `<div class="verdict ${tone}" data-exit-code="${code}"><span class="badge">${label}</span><span>exit ${code}: ${escapeText(meaning)}</span></div>`;
  }
  const interrupted = summary?.interrupted;
  if (interrupted) {
    html += `<p class="interrupted">${escapeText(`Interrupted by ${interrupted.signal} in ${interrupted.phase} after ${interrupted.after_s} s: a partial run. The figures below are over the part that ran, which was settled and checked.`)}</p>`;
  }
  if (input.error) html += `<pre class="error">${escapeText(input.error)}</pre>`;
  const codes = Object.entries(EXIT_CODE_MEANINGS)
    .map(([c, m]) => `<tr><td class="num">${c}</td><td>${escapeText(m)}</td></tr>`)
    .join('');
  html += `<details><summary>exit codes</summary><table><thead><tr><th>exit</th><th>meaning</th></tr></thead><tbody>${codes}</tbody></table></details>`;
  return html;
}

function figure(label: string, value: string): string {
  return `<div class="figure"><div class="label">${escapeText(label)}</div><div class="value">${escapeText(value)}</div></div>`;
}

function simFigures(sim: unknown): string[] {
  if (typeof sim !== 'object' || sim === null) return [];
  const s = sim as Record<string, unknown>;
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  const out: string[] = [];
  if (num('simulated_s') !== undefined) out.push(figure('simulated s', fmt(num('simulated_s'))));
  if (num('events') !== undefined) out.push(figure('events', fmt(num('events'))));
  if (num('events_per_s') !== undefined) out.push(figure('events / wall s', fmt(num('events_per_s'), 0)));
  if (num('heap_bytes_peak') !== undefined) out.push(figure('heap peak', `${fmt((num('heap_bytes_peak') ?? 0) / 1e6, 1)} MB`));
  if (typeof s['trace_hash'] === 'string') out.push(figure('trace hash', s['trace_hash'].slice(0, 16)));
  return out;
}

function summarySection(summary: RunSummary): string {
  const m = summary.messages;
  const l = summary.latency_ms;
  const figures = [
    figure('users', fmt(summary.users)),
    figure('devices', fmt(summary.devices)),
    figure('sent', fmt(m.sent)),
    figure('acked', fmt(m.acked)),
    figure('delivered (per device)', fmt(m.delivered)),
    figure('deliver p99', `${fmt(l.deliver.p99)} ms`),
    figure('ack p99', `${fmt(l.ack.p99)} ms`),
    figure('wall', `${fmt(summary.wall_s, 1)} s`),
    ...simFigures(summary['sim']),
  ];
  const row = (name: string, f: RunSummary['latency_ms']['ack']) =>
    `<tr><td>${name}</td>${[f.p50, f.p95, f.p99, f.p999, f.max].map((v) => `<td class="num">${escapeText(fmt(v))}</td>`).join('')}</tr>`;
  // The live driver also measures receipts and media uploads (load summaries); rows only where a run has them.
  const extra = [
    ['send → delivered receipt at the sender (includes time the recipient spent offline)', summary['receipt_latency_ms']],
    ['media upload', summary['upload_latency_ms']],
  ]
    .filter((entry): entry is [string, RunSummary['latency_ms']['ack']] => isLatencyFigures(entry[1]) && entry[1].max > 0)
    .map(([name, f]) => row(name, f))
    .join('');
  const latency = `<table><thead><tr><th>latency (ms)</th><th>p50</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead><tbody>${row('send → ack', l.ack)}${row('send → deliver', l.deliver)}${extra}</tbody></table>`;
  return `<h2>Summary</h2><div class="figures">${figures.join('')}</div>${latency}`;
}

function sloSection(summary: RunSummary): string {
  const rows = summary.slo.objectives
    .map(
      (o) =>
        `<tr><td>${escapeText(o.name)}</td><td>${escapeText(o.target)}</td><td class="num">${escapeText(fmt(o.actual))}</td><td class="${o.passed ? 'pass-text' : 'fail-text'}">${o.passed ? 'pass' : 'FAIL'}</td></tr>`,
    )
    .join('');
  return `<h2>Service-level objectives</h2><table><thead><tr><th>objective</th><th>target</th><th>actual</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

function invariantsSection(summary: RunSummary): string {
  const inv = summary.invariants;
  const shownBy = new Map<string, number>();
  for (const w of inv.witnesses) shownBy.set(w.invariant, (shownBy.get(w.invariant) ?? 0) + 1);
  const rows = inv.checked
    .map((name) => {
      const shown = shownBy.get(name) ?? 0;
      return `<tr><td>${escapeText(name)}</td><td class="${shown === 0 ? 'pass-text' : 'fail-text'}">${shown === 0 ? 'holds' : `violated (${shown} shown)`}</td></tr>`;
    })
    .join('');
  const total = `<p>${inv.violations === 0 ? 'No violations.' : `${escapeText(fmt(inv.violations))} violation(s) in total; ${inv.witnesses.length} shown below.`}</p>`;
  const witnesses = inv.witnesses
    .map(
      (w) =>
        `<details class="witness"><summary>${escapeText(w.invariant)}: ${escapeText(w.message)}</summary><pre>${escapeText(w.witness)}</pre></details>`,
    )
    .join('');
  return `<h2>Invariants</h2>${total}<table><thead><tr><th>invariant</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>${witnesses}`;
}

/** Faults as lanes on the same time axis as the charts: red = injected → healed, green = healed → recovered. */
function faultTimeline(faults: readonly ReportFault[], domain: [number, number]): string {
  const laneHeightPx = 22;
  const top = 4;
  const heightPx = top + faults.length * laneHeightPx + 24;
  const out: string[] = [
    `<svg class="chart timeline" viewBox="0 0 ${CHART_LAYOUT.widthPx} ${heightPx}" role="img" aria-label="fault timeline">`,
  ];
  faults.forEach((f, i) => {
    const y = top + i * laneHeightPx;
    const x0 = xPixelOf(f.at_s, domain);
    const x1 = xPixelOf(f.healed_s ?? domain[1], domain);
    out.push(
      `<text class="lane-label" x="${CHART_LAYOUT.marginLeftPx - 6}" y="${y + 14}" text-anchor="end">${escapeText(f.target)}</text>`,
    );
    out.push(
      `<rect class="fault-bar" x="${x0.toFixed(1)}" y="${y + 3}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${laneHeightPx - 6}"><title>${escapeText(f.kind)}</title></rect>`,
    );
    if (f.recovered_s !== null && f.healed_s !== null && f.recovered_s > f.healed_s) {
      const xr = xPixelOf(f.recovered_s, domain);
      out.push(
        `<rect class="recovery-bar" x="${x1.toFixed(1)}" y="${y + 3}" width="${(xr - x1).toFixed(1)}" height="${laneHeightPx - 6}"><title>recovering</title></rect>`,
      );
    }
  });
  const axisY = top + faults.length * laneHeightPx + 2;
  out.push(
    `<line class="axis" x1="${CHART_LAYOUT.marginLeftPx}" x2="${CHART_LAYOUT.widthPx - CHART_LAYOUT.marginRightPx}" y1="${axisY}" y2="${axisY}"/>`,
  );
  out.push(`<text class="tick" x="${CHART_LAYOUT.marginLeftPx}" y="${axisY + 14}">${escapeText(fmt(domain[0]))} s</text>`);
  out.push(
    `<text class="tick" x="${CHART_LAYOUT.widthPx - CHART_LAYOUT.marginRightPx}" y="${axisY + 14}" text-anchor="end">${escapeText(fmt(domain[1]))} s</text>`,
  );
  out.push('</svg>');
  return out.join('');
}

function faultsSection(faults: readonly ReportFault[], charts: readonly ReportChart[]): string {
  let domain = chartXDomain({ title: '', unit: '', series: [] }, faults);
  for (const c of charts) {
    const d = chartXDomain(c, faults);
    domain = [Math.min(domain[0], d[0]), Math.max(domain[1], d[1])];
  }
  const s = (v: number | null) => (v === null ? '—' : `${fmt(v)} s`);
  const rows = faults
    .map((f) => {
      const toRecover = f.recovered_s !== null && f.healed_s !== null ? `${fmt(f.recovered_s - f.healed_s)} s` : '—';
      return `<tr><td>${escapeText(f.kind)}</td><td>${escapeText(f.target)}</td><td class="num">${escapeText(s(f.at_s))}</td><td class="num">${escapeText(s(f.healed_s))}</td><td class="num">${escapeText(s(f.recovered_s))}</td><td class="num">${escapeText(toRecover)}</td></tr>`;
    })
    .join('');
  return `<h2>Faults</h2>${faultTimeline(faults, domain)}<table><thead><tr><th>fault</th><th>target</th><th>injected</th><th>healed</th><th>recovered</th><th>heal → recovered</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function otherKeysSection(summary: RunSummary): string {
  const rest = Object.fromEntries(Object.entries(summary).filter(([k]) => !SHARED_KEYS.has(k)));
  if (Object.keys(rest).length === 0) return '';
  return `<details><summary>other summary keys</summary><pre>${escapeText(JSON.stringify(rest, null, 2))}</pre></details>`;
}

/** Renders the whole report page. Pure; all text is HTML-escaped. */
export function renderHtmlReport(input: HtmlReportInput): string {
  const summary = input.summary;
  const charts = input.charts ?? [];
  const faults = input.faults ?? summary?.faults ?? [];
  const parts: string[] = [];
  parts.push(`<h1>${escapeText(input.title)}</h1>`);
  if (summary) {
    parts.push(
      `<p class="meta">${escapeText(`${summary.kind} · scenario ${summary.scenario} · seed ${summary.seed} · ${fmt(summary.users)} users, ${fmt(summary.devices)} devices · ${fmt(summary.wall_s, 1)} s wall`)}</p>`,
    );
  }
  if (input.scope) parts.push(`<p class="scope">${escapeText(input.scope)}</p>`);
  parts.push(verdictSection(input));
  if (summary) parts.push(summarySection(summary), sloSection(summary), invariantsSection(summary));
  if (faults.length > 0) parts.push(faultsSection(faults, charts));
  if (charts.length > 0) parts.push('<h2>Over time</h2>', ...charts.map((c) => renderChartSvg(c, faults)));
  if (input.tables && input.tables.length > 0) parts.push('<h2>Tables</h2>', ...input.tables.map(renderTable));
  if (input.notes && input.notes.length > 0)
    parts.push(`<h2>Notes</h2><ul class="notes">${input.notes.map((n) => `<li>${escapeText(n)}</li>`).join('')}</ul>`);
  if (summary) parts.push(otherKeysSection(summary));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // The page loads nothing: no scripts, no remote styles, fonts or images, even if a value slipped through.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeText(input.title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    ...parts,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function isLatencyFigures(value: unknown): value is RunSummary['latency_ms']['ack'] {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Record<string, unknown>;
  return ['p50', 'p95', 'p99', 'p999', 'max'].every((k) => typeof f[k] === 'number');
}
