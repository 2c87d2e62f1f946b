/**
 * `npm run profile`: one gateway under a load scenario, profiled with clinic.js.
 *
 *   npm run profile -- doctor|flame|heapprofiler [scenario.yaml] [--duration-s 20]
 *                      [--world embedded|production] [--out-dir DIR] [--json FILE]
 *
 * clinic starts the gateway (system/main.ts, with /dev/token), runs the load driver against it
 * once it listens, stops it when the load ends and writes its HTML report into --out-dir (default
 * out/profile/<tool>). The production world reads the usual CASSANDRA_* / REDIS_URL / S3_*
 * variables. Exit 0 when a report was written, 3 when none could be (the tool does not work here,
 * the gateway did not start, clinic failed). How to read the reports: docs/profiling.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCodes, verdictCodeOf, type RunSummary } from '../../../checker/run-summary.js';
import { clinicArgs, clinicEnv, clinicTools, doctorAnalysisOf, unusableTools, type ClinicTool, type ProfileRun } from './clinic-tools.js';

const USAGE = 'usage: npm run profile -- doctor|flame|heapprofiler [scenario.yaml] [--duration-s N] [--world embedded|production] [--out-dir DIR] [--json FILE]';
const DEFAULT_SCENARIO = 'scenarios/steady-1to1.yaml';

function couldNotRun(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(ExitCodes.COULD_NOT_RUN);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'duration-s': { type: 'string', default: '20' },
    world: { type: 'string', default: 'embedded' },
    'out-dir': { type: 'string' },
    json: { type: 'string' },
  },
});

const tool = positionals[0] as ClinicTool | undefined;
if (!tool || !clinicTools.includes(tool)) couldNotRun(USAGE);
const unusable = unusableTools[tool];
if (unusable) couldNotRun(`${unusable.why}; ${unusable.instead}`);
const scenarioPath = positionals[1] ?? DEFAULT_SCENARIO;
if (!existsSync(scenarioPath)) couldNotRun(`scenario ${scenarioPath} not found\n${USAGE}`);
const durationS = Number(values['duration-s']);
if (!(durationS > 0)) couldNotRun(`--duration-s must be a positive number of seconds\n${USAGE}`);
const world = values.world;
if (world !== 'embedded' && world !== 'production') couldNotRun(`--world must be embedded or production\n${USAGE}`);

// clinic refuses to start while trace files of an earlier, interrupted run lie in the working folder.
const leftoverTraces = readdirSync('.').filter((name) => /^node_trace\.\d+\.log$/.test(name));
if (leftoverTraces.length > 0) couldNotRun(`${leftoverTraces.length} node_trace.*.log files from an interrupted clinic run are in ${process.cwd()}: remove them first`);

const outDir = resolve(values['out-dir'] ?? join('out', 'profile', tool));
mkdirSync(outDir, { recursive: true });
const run: ProfileRun = {
  tool,
  outDir,
  scenarioPath,
  durationS,
  world,
  loadJsonPath: join(outDir, 'load.json'),
  nodePath: process.execPath,
  clinicBinPath: createRequire(import.meta.url).resolve('clinic/bin.js'),
};

const reportsBefore = new Set(htmlReports(outDir));
const startedAtMs = Date.now();
const clinicExit = await new Promise<number>((done) => {
  const child = spawn(process.execPath, clinicArgs(run), { stdio: 'inherit', env: clinicEnv(process.env) });
  child.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
});
const wallS = (Date.now() - startedAtMs) / 1000;
const report = htmlReports(outDir).find((path) => !reportsBefore.has(path));
const load = existsSync(run.loadJsonPath) ? (JSON.parse(readFileSync(run.loadJsonPath, 'utf8')) as RunSummary) : undefined;

const doctor = report && tool === 'doctor' ? doctorAnalysisOf(readFileSync(report, 'utf8')) : undefined;

const result = {
  tool,
  scenario: scenarioPath,
  world,
  duration_s: durationS,
  wall_s: wallS,
  report: report ?? null,
  clinic_exit: clinicExit,
  ...(doctor ? { doctor } : {}),
  load: load ? { verdict_code: verdictCodeOf(load), messages: load.messages, deliver_p99_ms: load.latency_ms.deliver.p99, ack_p99_ms: load.latency_ms.ack.p99 } : null,
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
if (load) {
  process.stdout.write(`load under ${tool}: ${load.messages.sent} sent, ${load.messages.delivered} delivered, deliver p99 ${load.latency_ms.deliver.p99} ms, ack p99 ${load.latency_ms.ack.p99} ms\n`);
} else {
  process.stdout.write(`the load driver wrote no summary (${run.loadJsonPath}): did the gateway start?\n`);
}
// clinic exits 1 when its analysis failed; the HTML it may still write then shows no data.
if (!report || clinicExit !== 0) couldNotRun(`clinic ${tool} wrote no report into ${outDir} (clinic exit ${clinicExit}, ${wallS.toFixed(1)} s)`);
if (doctor) process.stdout.write(`clinic doctor: issue category "${doctor.issueCategory}"; per metric ${JSON.stringify(doctor.issues)}\n`);
process.stdout.write(`clinic ${tool} report: ${report} (${wallS.toFixed(1)} s)\n`);

/** The HTML reports in a folder, newest first. */
function htmlReports(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.html'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}
