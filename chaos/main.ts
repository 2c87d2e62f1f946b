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
 * drill could not be carried out (bad file, topology would not start, a fault could not be injected).
 */
import { parseArgs } from 'node:util';
import { ExitCodes, formatSummary } from '../checker/run-summary.js';
import { progressPrinter } from '../load/progress.js';
import { writeHtmlReport } from '../reports/index.js';
import { ChaosError, ChaosErrorCodes } from './errors.js';
import { readDrill, type Drill } from './format/read-drill.js';
import { writeDrillOutputs } from './report/outputs.js';
import { formatFaults, formatTimeline } from './report/text-timeline.js';
import { runDrill } from './run-drill.js';
import { composeTopology } from './topology/compose-topology.js';
import { startLocalTopology } from './topology/local-topology.js';
import type { Topology } from './topology/topology.js';

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
    throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENTS, `${(error as Error).message}\n${USAGE}`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseCli();
  if (positionals.length !== 1) throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENTS, `give exactly one drill file\n${USAGE}`);
  if (values.target !== 'local' && values.target !== 'compose') throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENTS, `--target is local or compose, not "${values.target}"`);
  const drill = await readDrill(positionals[0]!);
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
      : startLocalTopology({ runId, gateways: drill.gateways, cassandra: drill.topology.cassandra, redis: drill.topology.redis, limits: drill.topology.limits, log });
  log(`drill ${drill.name}: ${drill.faults.length} fault(s), load ${drill.scenario.name} for ${drill.scenario.duration_s} s on ${drill.gateways} gateway(s), target ${values.target}`);
  const progress = values.quiet ? undefined : progressPrinter(process.stderr);
  // Ctrl-C ends the drill the orderly way: faults healed, private backends and gateways stopped
  // (the private Redis/Cassandra run detached and would otherwise outlive us). A second one exits.
  const interrupted = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted.signal.aborted) process.exit(ExitCodes.COULD_NOT_RUN);
      process.stderr.write(`\n${signal}: healing faults and stopping the topology (again to exit at once)\n`);
      interrupted.abort();
    });
  }
  try {
    const result = await runDrill(drill, { topology, targetKind: values.target, runId, log, signal: interrupted.signal, load: progress ? { onProgress: (p) => progress.update(p) } : {} });
    progress?.end();
    process.stdout.write(`${formatTimeline(result.timeSeries, result.faults)}\n\n${formatFaults(result.faults)}\n\n${formatSummary(result.summary)}\n`);
    if (result.error) process.stderr.write(`could not carry out the drill as written: ${result.error}\n`);
    await writeDrillOutputs(drill, result, { json: values.json, html: values.html });
    return result.exitCode;
  } catch (error) {
    progress?.end();
    if (values.html) await writeHtmlReport(values.html, { title: titleOf(drill), exitCode: ExitCodes.COULD_NOT_RUN, error: (error as Error).message });
    throw error;
  }
}

function titleOf(drill: Drill): string {
  return `Chaos drill · ${drill.name}`;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`${error instanceof ChaosError ? `${error.code}: ` : ''}${(error as Error).message}\n`);
  process.exitCode = ExitCodes.COULD_NOT_RUN;
}
