/**
 * The clinic.js tools `npm run profile` offers, and the command lines that run one around a
 * gateway while the load driver plays a scenario against it. Pure: the CLI (profile-gateway.ts)
 * spawns what these functions build.
 */
export const clinicTools = ['doctor', 'flame', 'heapprofiler', 'bubbleprof'] as const;
export type ClinicTool = (typeof clinicTools)[number];

/**
 * Tools that do not work on the Node version the project runs on, with what happened and what to
 * use instead. bubbleprof on Node 20: the run writes a stack-trace file (about 600 MB for a 5 s
 * load of ci-small) but no trace-event file, so its analysis stops with ENOENT and no report.
 */
export const unusableTools: Partial<Record<ClinicTool, { why: string; instead: string }>> = {
  bubbleprof: {
    why: 'clinic bubbleprof does not work on Node 20: it records no async trace events, so its analysis fails and writes no report',
    instead:
      'use `npm run profile -- doctor` (event-loop delay, active handles, CPU and memory over time) or `flame` (where the CPU time goes)',
  },
};

export interface ProfileRun {
  tool: ClinicTool;
  /** clinic's --dest: where its data folder and HTML report go. */
  outDir: string;
  scenarioPath: string;
  durationS: number;
  world: 'embedded' | 'production';
  /** The load driver's --json summary. */
  loadJsonPath: string;
  /** The node binary that runs the gateway and the load driver (process.execPath). */
  nodePath: string;
  /** clinic's bin.js. */
  clinicBinPath: string;
}

/** POSIX single quotes: the on-port command goes through a shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The load driver, started by clinic once the gateway listens: clinic puts the port in $PORT (left
 * unquoted so the shell expands it), and stops the gateway when this command exits.
 */
export function loadCommand(run: ProfileRun): string {
  const words = [
    run.nodePath,
    '--import',
    'tsx',
    'load/main.ts',
    run.scenarioPath,
    '--duration-s',
    String(run.durationS),
    '--quiet',
    '--json',
    run.loadJsonPath,
  ];
  return `${words.map(shellQuote).join(' ')} --target ws://127.0.0.1:$PORT/ws`;
}

/** argv for `node <clinic bin> …`: the tool, its output folder, the load, then the gateway. */
export function clinicArgs(run: ProfileRun): string[] {
  const gateway = [run.nodePath, '--import', 'tsx', 'system/main.ts', '--world', run.world, '--port', '0', '--dev-tokens', '--quiet'];
  return [run.clinicBinPath, run.tool, '--open=false', '--dest', run.outDir, '--on-port', loadCommand(run), '--', ...gateway];
}

/**
 * The environment for clinic: NO_INSIGHT=1 because clinic otherwise asks on the terminal whether it
 * may send usage statistics, and with no terminal to ask on it exits at once, silently, with 0.
 */
export function clinicEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, NO_INSIGHT: '1' };
}

/** What clinic doctor concluded, as embedded in its report. */
export interface DoctorAnalysis {
  /** 'none', 'io', 'gc', 'event-loop' or 'data' (clinic doctor's categories). */
  issueCategory: string;
  /** Per metric: 'none', 'performance' (a problem) or 'data' (too little data). */
  issues: Record<string, unknown>;
}

/**
 * The analysis clinic doctor embeds in its HTML report (a JSON object under "analysis"), or
 * undefined when the report holds none (another version of doctor, or a failed analysis).
 */
export function doctorAnalysisOf(html: string): DoctorAnalysis | undefined {
  const match = /"analysis":\s*(\{"interval":\[[^\]]*\],"issues":\{(?:[^{}]|\{[^{}]*\})*\},"issueCategory":"[a-z-]+"\})/.exec(html);
  if (!match) return undefined;
  const parsed = JSON.parse(match[1]!) as DoctorAnalysis;
  return { issueCategory: parsed.issueCategory, issues: parsed.issues };
}
