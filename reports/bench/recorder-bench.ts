import { renderHtmlReport } from '../render-html-report.js';
import { TimeSeriesRecorder } from '../time-series-recorder.js';

/*
 * What recording and rendering cost: `node --expose-gc --import tsx reports/bench/recorder-bench.ts [samples] [seconds]`.
 * Records `samples` counts, latencies and gauges (one kind at a time, spread over `seconds` of run
 * time) into one recorder, then renders its standard charts. Memory is heap + array buffers (the
 * histograms' typed arrays live outside the heap), after a collection when --expose-gc is given.
 */
const samples = Number(process.argv[2] ?? 2_000_000);
const runS = Number(process.argv[3] ?? 3_600);
const gc = (globalThis as { gc?: () => void }).gc;
const memory = () => {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const before = memory();
const recorder = new TimeSeriesRecorder();
const kinds = {
  count: (atS: number) => recorder.count('delivered', atS),
  latency: (atS: number, x: number) => recorder.latency('deliver', atS, 2 + (x % 20_000) / 100),
  gauge: (atS: number, x: number) => recorder.gauge('inbox depth', atS, x % 1000),
};
console.log(`${samples} samples of each kind over ${runS} s of run time`);
for (const [kind, record] of Object.entries(kinds)) {
  let x = 12345;
  const started = performance.now();
  for (let i = 0; i < samples; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff; // cheap deterministic jitter
    record((i / samples) * runS, x);
  }
  const ns = ((performance.now() - started) * 1e6) / samples;
  console.log(`  ${kind.padEnd(8)} ${ns.toFixed(0)} ns per call`);
}
const held = memory() - before;
const renderStarted = performance.now();
const html = renderHtmlReport({ title: 'bench', charts: recorder.charts({ untilS: runS }) });
const renderMs = performance.now() - renderStarted;
console.log(`interval at the end: ${recorder.intervalS} s`);
console.log(`memory held by the recorder: ${(held / 1e6).toFixed(2)} MB${gc ? '' : ' (run with node --expose-gc for a settled figure)'}`);
console.log(`render: ${renderMs.toFixed(0)} ms for ${html.length} bytes of HTML`);
