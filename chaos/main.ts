/**
 * `npm run chaos`: runs one chaos drill and reports it.
 *
 *   npm run chaos -- chaos/<drill>.yaml [--json FILE] [--html FILE] [--quiet]
 *                    [--target local|compose] [--compose-project P] [--compose-file F]
 *                    [--compose-url ws://… …] [--token-secret S]
 *
 * `local` (default) starts the topology itself: N gateway processes on the local Cassandra and
 * Redis with a fault proxy in between (see chaos/README.md). Exit codes: 0 every invariant and
 * SLO held and every fault recovered in time, 1 an invariant was violated (lost, reordered,
 * duplicated…), 2 an SLO was missed (steady state, recovery bound, or the drill aborted), 3 the
 * drill could not be carried out (bad file, topology would not start, a fault could not be injected;
 * the requested --json/--html are still written, saying why), 130/143 interrupted by SIGINT/SIGTERM
 * (faults healed, the load settled and judged, outputs written marked interrupted; a second
 * signal exits at once).
 */
import { parseArgs } from 'node:util';
import { ExitCodes, exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { codeOfError, runNameOfFile, writeCouldNotRunOutputs, type CouldNotRunPaths } from '../cli/could-not-run.js';
import { watchInterrupts } from '../cli/interrupts.js';
import { progressPrinter } from '../load/progress.js';
import { ChaosErrorCodes } from './error-codes.js';
import { readDrill } from './format/read-drill.js';
import { writeDrillOutputs } from './report/outputs.js';
import { formatFaults, formatTimeline } from './report/text-timeline.js';
import { runDrill } from './run-drill.js';
import { composeTopology } from './topology/compose-topology.js';
import { startDrillTopology } from './topology/local-topology.js';
import type { Topology } from './topology/topology.js';
import { ToolError } from '../cli/tool-error.js';

const USAGE =
  'usage: npm run chaos -- <drill.yaml> [--json FILE] [--html FILE] [--quiet] [--target local|compose] ' +
  '[--compose-project P] [--compose-file F] [--compose-url ws://…]… [--token-secret S]';

function parseCli() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        html: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        target: { type: 'string', default: 'local' },
        'compose-project': { type: 'string' },
        'compose-file': { type: 'string' },
        'compose-url': { type: 'string', multiple: true, default: [] },
        'token-secret': { type: 'string' },
      },
    });
  } catch (error) {
    throw new ToolError(ChaosErrorCodes.BAD_ARGUMENTS, `${(error as Error).message}\n${USAGE}`);
  }
}

/** Where a drill that cannot be carried out still writes what was asked for, once the options are read. */
let couldNotRunOutputs: CouldNotRunPaths = {};
let drillName = 'unknown';

async function main(): Promise<number> {
  const { values, positionals } = parseCli();
  couldNotRunOutputs = { json: values.json, html: values.html };
  drillName = runNameOfFile(positionals[0]);
  if (positionals.length !== 1) throw new ToolError(ChaosErrorCodes.BAD_ARGUMENTS, `give exactly one drill file\n${USAGE}`);
  if (values.target !== 'local' && values.target !== 'compose') throw new ToolError(ChaosErrorCodes.BAD_ARGUMENTS, `--target is local or compose, not "${values.target}"`);
  const drill = await readDrill(positionals[0]!);
  drillName = drill.name;
  if (values.target === 'compose' && drill.topology.world === 'embedded') throw new ToolError(ChaosErrorCodes.BAD_ARGUMENTS, `${drill.name} runs the embedded world, which --target compose does not have`);
  const log = values.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const runId = `${drill.name.slice(0, 20)}-${Date.now().toString(36)}`;
  const topology = (): Promise<Topology> =>
    values.target === 'compose'
      ? Promise.resolve(
          composeTopology({
            gateways: drill.gateways,
            project: values['compose-project'],
            file: values['compose-file'],
            targets: values['compose-url'].length > 0 ? values['compose-url'] : undefined,
            tokenSecret: values['token-secret'] ?? process.env.CHAT_TOKEN_SECRET,
          }),
        )
      : startDrillTopology(drill, runId, log);
  log(`drill ${drill.name}: ${drill.faults.length} fault(s), load ${drill.scenario.name} for ${drill.scenario.duration_s} s on ${drill.gateways} gateway(s), target ${values.target}`);
  const progress = values.quiet ? undefined : progressPrinter(process.stderr);
  // Ctrl-C ends the drill the orderly way: faults healed, the load settled and judged, private
  // backends and gateways stopped (the private Redis/Cassandra run detached and would otherwise
  // outlive us), every output written marked interrupted. A second one exits at once.
  const interrupts = watchInterrupts({ doing: 'healing faults, settling and judging what ran, then stopping the topology' });
  try {
    const result = await runDrill(drill, {
      topology,
      targetKind: values.target,
      runId,
      log,
      signal: interrupts.signal,
      load: { onPhase: (phase) => interrupts.setPhase(phase), ...(progress ? { onProgress: (p) => progress.update(p) } : {}) },
    });
    progress?.end();
    const interruption = interrupts.interruption();
    if (interruption) {
      result.summary.interrupted = interruption;
      result.exitCode = exitCodeOf(result.summary);
    }
    process.stdout.write(`${formatTimeline(result.timeSeries, result.faults)}\n\n${formatFaults(result.faults)}\n\n${formatSummary(result.summary)}\n`);
    if (result.error) process.stderr.write(`could not carry out the drill as written: ${result.error}\n`);
    await writeDrillOutputs(drill, result, { json: values.json, html: values.html });
    return result.exitCode;
  } catch (error) {
    progress?.end();
    throw error;
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  const message = (error as Error).message;
  process.stderr.write(`${error instanceof ToolError ? `${error.code}: ` : ''}${message}\n`);
  // A drill that could not be carried out still leaves the outputs it was asked for, saying why.
  await writeCouldNotRunOutputs(couldNotRunOutputs, { kind: 'chaos', scenario: drillName, code: codeOfError(error), message }, `Chaos drill · ${drillName}`).catch((writeError: unknown) => {
    process.stderr.write(`could not write the outputs either: ${(writeError as Error).message}\n`);
  });
  process.exitCode = ExitCodes.COULD_NOT_RUN;
}
