import { parse, type DefaultTreeAdapterTypes } from 'parse5';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../checker/run-summary.js';
import { renderHtmlReport } from './render-html-report.js';
import type { HtmlReportInput, ReportChart } from './report-input.js';
import { CHART_LAYOUT, timeAxis } from './svg-chart.js';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

function parseStrict(html: string) {
  const errors: string[] = [];
  const document = parse(html, { onParseError: (e) => errors.push(`${e.code} at line ${e.startLine}`) });
  return { document, errors };
}

function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node);
  if ('childNodes' in node) for (const child of node.childNodes) elements(child, out);
  // <template> content is not used by the report, so childNodes cover everything.
  return out;
}

const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;
const hasClass = (e: Element, name: string) => (attr(e, 'class') ?? '').split(/\s+/).includes(name);

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  const figures = { p50: 3, p95: 8, p99: 12.5, p999: 30, max: 41 };
  return {
    kind: 'sim',
    scenario: 'smoke',
    seed: 7,
    users: 200,
    devices: 240,
    messages: { sent: 1200, acked: 1200, delivered: 2900 },
    latency_ms: { ack: figures, deliver: figures },
    invariants: { checked: ['durability', 'order', 'no-duplicates'], violations: 0, witnesses: [] },
    slo: { passed: true, objectives: [{ name: 'deliver.p99', target: '< 200 ms', actual: 12.5, passed: true }] },
    wall_s: 3.2,
    ...overrides,
  };
}

/** A chart whose x domain is exactly [0, 100] s, so pixel positions are easy to predict. */
const chart0to100: ReportChart = {
  title: 'throughput',
  unit: 'msgs/s',
  series: [{ name: 'sent', points: Array.from({ length: 101 }, (_, i) => [i, 50 + (i % 7)] as [number, number]) }],
};

const plotWidthPx = CHART_LAYOUT.widthPx - CHART_LAYOUT.marginLeftPx - CHART_LAYOUT.marginRightPx;
const expectedXPx = (timeS: number) => CHART_LAYOUT.marginLeftPx + (timeS / 100) * plotWidthPx;

describe('renderHtmlReport', () => {
  it('renders one well-formed, self-contained page: no scripts, no links, no remote URLs', () => {
    const html = renderHtmlReport({
      title: 'smoke run',
      summary: summary({ faults: [{ kind: 'gateway_crash', target: 'gateway-1', at_s: 20, healed_s: 30, recovered_s: 34 }] }),
      charts: [
        chart0to100,
        {
          title: 'deliver latency',
          unit: 'ms',
          yLog: true,
          series: [
            {
              name: 'p99',
              points: [
                [0, 5],
                [1, 80],
                [2, 400],
              ],
            },
          ],
        },
      ],
      tables: [
        {
          title: 'per gateway',
          columns: ['gateway', 'sessions'],
          rows: [
            ['gateway-0', 120],
            ['gateway-1', 80],
          ],
        },
      ],
      notes: ['a note'],
    });
    const { document, errors } = parseStrict(html);
    expect(errors).toEqual([]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//i);
    const all = elements(document);
    expect(all.filter((e) => ['script', 'link', 'img', 'iframe', 'object', 'embed'].includes(e.tagName))).toEqual([]);
    expect(all.filter((e) => e.attrs.some((a) => ['src', 'href'].includes(a.name) || a.name.startsWith('on')))).toEqual([]);
    expect(all.filter((e) => e.tagName === 'style')).toHaveLength(1);
    // Two charts and the fault timeline.
    expect(all.filter((e) => e.tagName === 'svg')).toHaveLength(3);
    expect(html).not.toContain('NaN');
    expect(html).not.toContain('undefined');
  });

  it('escapes every piece of caller text', () => {
    const evil = '<script>alert("x")</script>&\'';
    const input: HtmlReportInput = {
      title: evil,
      summary: summary({
        scenario: evil,
        invariants: {
          checked: ['order'],
          violations: 1,
          witnesses: [{ invariant: 'order', message: evil, witness: `${evil}\n  event 2` }],
        },
        slo: { passed: false, objectives: [{ name: evil, target: evil, actual: 1, passed: false }] },
        faults: [{ kind: evil, target: evil, at_s: 1, healed_s: 2, recovered_s: null }],
        extra_key: evil,
      }),
      charts: [
        {
          title: evil,
          unit: evil,
          series: [
            {
              name: evil,
              points: [
                [0, 1],
                [1, 2],
              ],
            },
          ],
        },
      ],
      tables: [{ title: evil, columns: [evil], rows: [[evil]] }],
      notes: [evil],
      error: evil,
    };
    const html = renderHtmlReport(input);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('"x"');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    const { document, errors } = parseStrict(html);
    expect(errors).toEqual([]);
    expect(elements(document).filter((e) => e.tagName === 'script')).toEqual([]);
  });

  it('shows the verdict the exit code implies', () => {
    const code = (input: HtmlReportInput) => /data-exit-code="(\d)"/.exec(renderHtmlReport(input))?.[1];
    expect(code({ title: 't', summary: summary() })).toBe('0');
    expect(code({ title: 't', summary: summary({ invariants: { checked: ['order'], violations: 2, witnesses: [] } }) })).toBe('1');
    expect(code({ title: 't', summary: summary({ slo: { passed: false, objectives: [] } }) })).toBe('2');
    const couldNotRun = renderHtmlReport({ title: 't', summary: summary(), exitCode: 3, error: 'target unreachable' });
    expect(couldNotRun).toContain('COULD NOT RUN');
    expect(couldNotRun).toContain('target unreachable');
    expect(renderHtmlReport({ title: 't', summary: summary() })).toContain('PASS');
    expect(renderHtmlReport({ title: 'capacity' })).toContain('NO VERDICT');
  });

  it('lists SLO objectives, invariants and witnesses', () => {
    const html = renderHtmlReport({
      title: 't',
      summary: summary({
        invariants: {
          checked: ['durability', 'order'],
          violations: 3,
          witnesses: [{ invariant: 'order', message: 'seq 4 before seq 3', witness: 'deliver seq 4\ndeliver seq 3' }],
        },
        slo: { passed: false, objectives: [{ name: 'deliver.p99', target: '< 200 ms', actual: 250, passed: false }] },
      }),
    });
    expect(html).toMatch(/<td>deliver\.p99<\/td><td>&lt; 200 ms<\/td><td class="num">250<\/td><td class="fail-text">FAIL<\/td>/);
    expect(html).toMatch(/<td>durability<\/td><td class="pass-text">holds<\/td>/);
    expect(html).toMatch(/<td>order<\/td><td class="fail-text">violated \(1 shown\)<\/td>/);
    expect(html).toContain('3 violation(s) in total');
    expect(html).toContain('deliver seq 4\ndeliver seq 3');
  });

  it('draws each fault as a band from injection to heal and a marker at recovery, on every chart', () => {
    const html = renderHtmlReport({
      title: 't',
      summary: summary(),
      charts: [chart0to100, { ...chart0to100, title: 'second chart' }],
      faults: [
        { kind: 'cassandra_stop', target: 'cassandra', at_s: 25, healed_s: 50, recovered_s: 60 },
        { kind: 'gateway_crash', target: 'gateway-0', at_s: 80, healed_s: null, recovered_s: null },
      ],
    });
    const all = elements(parseStrict(html).document);
    const bands = all.filter((e) => hasClass(e, 'fault-band'));
    expect(bands).toHaveLength(4);
    const first = bands.filter((e) => attr(e, 'data-at-s') === '25');
    expect(first).toHaveLength(2);
    for (const band of first) {
      expect(Number(attr(band, 'x'))).toBeCloseTo(expectedXPx(25), 0);
      expect(Number(attr(band, 'width'))).toBeCloseTo(expectedXPx(50) - expectedXPx(25), 0);
    }
    // A fault that never healed runs to the chart's end.
    for (const band of bands.filter((e) => attr(e, 'data-at-s') === '80')) {
      expect(Number(attr(band, 'x')) + Number(attr(band, 'width'))).toBeCloseTo(expectedXPx(100), 0);
    }
    const markers = all.filter((e) => hasClass(e, 'recovery-marker'));
    expect(markers).toHaveLength(2);
    for (const m of markers) expect(Number(attr(m, 'x1'))).toBeCloseTo(expectedXPx(60), 0);
  });

  it('takes faults from the summary when none are given', () => {
    const html = renderHtmlReport({
      title: 't',
      summary: summary({ faults: [{ kind: 'gateway_crash', target: 'gateway-1', at_s: 10, healed_s: 15, recovered_s: 16 }] }),
      charts: [chart0to100],
    });
    expect(html).toContain('class="fault-band"');
    expect(html).toMatch(
      /<td>gateway_crash<\/td><td>gateway-1<\/td><td class="num">10 s<\/td><td class="num">15 s<\/td><td class="num">16 s<\/td><td class="num">1 s<\/td>/,
    );
  });

  it('handles empty charts, empty series, gaps and non-positive values on a log axis', () => {
    const html = renderHtmlReport({
      title: 't',
      summary: summary(),
      charts: [
        { title: 'nothing', unit: 'ms', series: [] },
        { title: 'empty series', unit: 'ms', series: [{ name: 'p99', points: [] }] },
        {
          title: 'all gaps',
          unit: 'ms',
          yLog: true,
          series: [
            {
              name: 'p99',
              points: [
                [0, null],
                [1, 0],
                [2, -3],
              ],
            },
          ],
        },
        {
          title: 'gap',
          unit: 'ms',
          series: [
            {
              name: 'p50',
              points: [
                [0, 1],
                [1, 2],
                [2, null],
                [3, 4],
                [4, 5],
              ],
            },
          ],
        },
      ],
    });
    expect(parseStrict(html).errors).toEqual([]);
    expect(html).not.toContain('NaN');
    expect(html.match(/no data points/g)).toHaveLength(3);
    // The gap splits the line into two sub-paths.
    const gapPath = /data-series="p50"[^>]* d="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(gapPath.match(/M/g)).toHaveLength(2);
  });
});

describe('reference lines and fault names on charts', () => {
  const chart: ReportChart = {
    title: 'deliver latency',
    unit: 'ms',
    yLog: true,
    series: [
      {
        name: 'deliver p99',
        points: [
          [0, 12],
          [1, 40],
          [2, 30],
        ],
      },
    ],
    thresholds: [{ label: 'SLO deliver p99 < 200 ms', value: 200 }],
  };

  it('draw an SLO line, labelled, inside the plot even when every point is below it', () => {
    const html = renderHtmlReport({ title: 't', charts: [chart] });
    const { document } = parseStrict(html);
    const line = elements(document).find((e) => hasClass(e, 'threshold'))!;
    expect(attr(line, 'data-threshold')).toBe('200');
    const y = Number(attr(line, 'y1'));
    expect(y).toBeGreaterThanOrEqual(CHART_LAYOUT.marginTopPx);
    expect(y).toBeLessThan(CHART_LAYOUT.heightPx - CHART_LAYOUT.marginBottomPx);
    expect(
      elements(document)
        .filter((e) => hasClass(e, 'threshold-label'))
        .map((e) => (e.childNodes[0] as { value?: string }).value),
    ).toEqual(['SLO deliver p99 < 200 ms']);
    expect(html).toContain('<span class="swatch threshold-swatch"></span>SLO deliver p99 &lt; 200 ms');
  });

  it('name each fault at the top of its band', () => {
    const html = renderHtmlReport({
      title: 't',
      charts: [chart],
      faults: [{ kind: 'gateway_crash', target: 'gateway-1', at_s: 1, healed_s: 2, recovered_s: null }],
    });
    const labels = elements(parseStrict(html).document).filter((e) => hasClass(e, 'fault-label'));
    expect(labels.map((e) => (e.childNodes[0] as { value?: string }).value)).toEqual(['gateway_crash gateway-1']);
  });
});

describe('the time axis', () => {
  it('counts seconds for short runs and reads as a clock (m:ss, h:mm) for long ones', () => {
    expect(timeAxis([0, 30])).toMatchObject({ label: 'seconds' });
    const tenMinutes = timeAxis([0, 900]);
    expect(tenMinutes.label).toBe('time (m:ss)');
    expect(tenMinutes.ticks.map(tenMinutes.format)).toEqual(['0:00', '2:00', '4:00', '6:00', '8:00', '10:00', '12:00', '14:00']);
    const hour = timeAxis([0, 4200]);
    expect(hour.label).toBe('time (h:mm)');
    expect(hour.ticks.map(hour.format)).toEqual(['0:00', '0:10', '0:20', '0:30', '0:40', '0:50', '1:00', '1:10']);
  });
});

describe('the latency table', () => {
  it('adds the live driver’s receipt latency, saying what it includes, and upload latency only when media was sent', () => {
    const receipts = { p50: 40, p95: 900, p99: 20_000, p999: 25_000, max: 26_000 };
    const none = { p50: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    const html = renderHtmlReport({
      title: 't',
      summary: summary({ kind: 'load', receipt_latency_ms: receipts, upload_latency_ms: none }),
    });
    expect(html).toContain(
      '<td>send → delivered receipt at the sender (includes time the recipient spent offline)</td><td class="num">40</td>',
    );
    expect(html).not.toContain('media upload');
    expect(renderHtmlReport({ title: 't', summary: summary() })).not.toContain('delivered receipt');
  });
});
