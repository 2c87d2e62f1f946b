/**
 * `npm run profile`: one gateway under a load scenario, profiled with clinic.js.
 * Options: `npm run profile -- --help`.
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
import { ExitCodes, verdictCodeOf, type RunSummary } from '../../../checker/run-summary.js';
import { clinicArgs, clinicEnv, clinicTools, doctorAnalysisOf, unusableTools, type ClinicTool, type ProfileRun } from './clinic-tools.js';
import { defineCommand } from '../../../cli/command-spec.js';
import { readCommandLine } from '../../../cli/run-command.js';
import { ToolError } from '../../../cli/tool-error.js';

const DEFAULT_SCENARIO = 'scenarios/steady-1to1.yaml';

/** Stable codes of `npm run profile` (cli/README.md); each exits 3. */
const ProfileErrorCodes = {
  BAD_ARGUMENTS: 'PROFILE_BAD_ARGUMENTS',
  /** The clinic tool does not work here (the message says what to use instead). */
  TOOL_UNUSABLE: 'PROFILE_TOOL_UNUSABLE',
  /** Trace files of an interrupted clinic run would make clinic refuse to start. */
  LEFTOVER_TRACES: 'PROFILE_LEFTOVER_TRACES',
  NO_REPORT: 'PROFILE_NO_REPORT',
} as const;

const command = defineCommand({
  name: 'profile',
  purpose: "one gateway under a scenario's load, profiled with clinic.js; writes the HTML report (docs/profiling.md)",
  positionals: [
    { name: 'tool', description: clinicTools.filter((t) => !unusableTools[t]).join(' | ') },
    { name: 'scenario.yaml', description: `the load (default ${DEFAULT_SCENARIO})`, optional: true },
  ],
  options: {
    'duration-s': { type: 'number', above: 0, default: 20, placeholder: 'S', description: 'seconds of load' },
    world: {
      type: 'string',
      choices: ['embedded', 'production'],
      default: 'embedded',
      description: "the gateway's world (production reads CASSANDRA_*, REDIS_URL, S3_*)",
    },
    'out-dir': { type: 'string', placeholder: 'DIR', description: 'where the report goes (default out/profile/<tool>)' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the run (report path, load figures, doctor verdict) as JSON' },
  },
  exitCodes: [
    { code: ExitCodes.OK, meaning: 'a report was written' },
    { code: ExitCodes.COULD_NOT_RUN, meaning: 'none could be: the tool does not work here, the gateway did not start, clinic failed' },
  ],
  badArgumentsCode: ProfileErrorCodes.BAD_ARGUMENTS,
});
const { values, positionals } = readCommandLine(command);

const tool = positionals[0] as ClinicTool;
if (!clinicTools.includes(tool))
  throw new ToolError(ProfileErrorCodes.BAD_ARGUMENTS, `unknown tool "${tool}"; one of ${clinicTools.join(', ')}`);
const unusable = unusableTools[tool];
if (unusable) throw new ToolError(ProfileErrorCodes.TOOL_UNUSABLE, unusable.why, { hint: unusable.instead });
const scenarioPath = positionals[1] ?? DEFAULT_SCENARIO;
if (!existsSync(scenarioPath)) throw new ToolError(ProfileErrorCodes.BAD_ARGUMENTS, `scenario ${scenarioPath} not found`);
const durationS = values['duration-s'];
const world = values.world;

// clinic refuses to start while trace files of an earlier, interrupted run lie in the working folder.
const leftoverTraces = readdirSync('.').filter((name) => /^node_trace\.\d+\.log$/.test(name));
if (leftoverTraces.length > 0) {
  throw new ToolError(
    ProfileErrorCodes.LEFTOVER_TRACES,
    `${leftoverTraces.length} node_trace.*.log files from an interrupted clinic run are in ${process.cwd()}`,
    { hint: 'remove them first' },
  );
}

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
  load: load
    ? {
        verdict_code: verdictCodeOf(load),
        messages: load.messages,
        deliver_p99_ms: load.latency_ms.deliver.p99,
        ack_p99_ms: load.latency_ms.ack.p99,
      }
    : null,
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
if (load) {
  process.stdout.write(
    `load under ${tool}: ${load.messages.sent} sent, ${load.messages.delivered} delivered, deliver p99 ${load.latency_ms.deliver.p99} ms, ack p99 ${load.latency_ms.ack.p99} ms\n`,
  );
} else {
  process.stdout.write(`the load driver wrote no summary (${run.loadJsonPath}): did the gateway start?\n`);
}
// clinic exits 1 when its analysis failed; the HTML it may still write then shows no data.
if (!report || clinicExit !== 0)
  throw new ToolError(
    ProfileErrorCodes.NO_REPORT,
    `clinic ${tool} wrote no report into ${outDir} (clinic exit ${clinicExit}, ${wallS.toFixed(1)} s)`,
  );
if (doctor) process.stdout.write(`clinic doctor: issue category "${doctor.issueCategory}"; per metric ${JSON.stringify(doctor.issues)}\n`);
process.stdout.write(`clinic ${tool} report: ${report} (${wallS.toFixed(1)} s)\n`);

/** The HTML reports in a folder, newest first. */
function htmlReports(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.html'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}
