/** The page's only stylesheet, inlined in <style>: no fonts, images or scripts are loaded from anywhere. */
export const REPORT_CSS = `
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --band: rgba(207, 34, 46, 0.12); }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0 auto; max-width: 960px; padding: 24px 16px 64px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.scope { margin: 0 0 12px; padding: 8px 12px; border-left: 4px solid var(--warn); background: #fff8c5; }
.verdict { display: flex; gap: 12px; align-items: center; padding: 12px 16px; border-radius: 6px; border: 1px solid var(--line); }
.verdict .badge { font-weight: 700; font-size: 16px; padding: 2px 10px; border-radius: 4px; color: #fff; }
.verdict.pass .badge { background: var(--pass); }
.verdict.fail .badge { background: var(--fail); }
.verdict.none .badge { background: var(--muted); }
.verdict.interrupted .badge { background: var(--warn); }
.interrupted { margin: 8px 0 0; padding: 8px 12px; border-left: 4px solid var(--warn); background: #fff8c5; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.figure .label { color: var(--muted); font-size: 12px; }
.figure .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; }
td.num { text-align: right; }
.pass-text { color: var(--pass); font-weight: 600; }
.fail-text { color: var(--fail); font-weight: 600; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; margin: 4px 0; }
details summary { cursor: pointer; }
.chart-figure { margin: 12px 0 20px; }
.chart-figure figcaption { font-weight: 600; margin-bottom: 4px; }
.chart-figure .unit { color: var(--muted); font-weight: 400; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg .tick, svg .axis-label, svg .lane-label { font-size: 11px; fill: var(--muted); }
svg .series { fill: none; stroke-width: 1.6; }
svg .series-area { opacity: 0.18; }
svg .fault-band { fill: var(--band); }
svg .recovery-marker { stroke: var(--pass); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .fault-label { fill: var(--fail); font-size: 10px; }
svg .threshold { stroke: var(--fail); stroke-width: 1.2; stroke-dasharray: 8 4; }
svg .threshold-label { fill: var(--fail); font-size: 10px; }
.threshold-swatch { background: repeating-linear-gradient(90deg, var(--fail) 0 6px, transparent 6px 9px); }
svg .fault-bar { fill: rgba(207, 34, 46, 0.55); }
svg .recovery-bar { fill: rgba(26, 127, 55, 0.35); }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); }
.legend-item { display: inline-flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 14px; height: 3px; }
.empty { color: var(--muted); font-style: italic; }
ul.notes li { margin: 2px 0; }
`;
