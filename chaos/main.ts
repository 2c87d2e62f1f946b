/**
 * `npm run chaos`: runs one chaos drill and reports it. `local` (default) starts the topology
 * itself: N gateway processes on the local Cassandra and Redis with a fault proxy in between (see
 * chaos/README.md). On SIGINT/SIGTERM the faults are healed, the load settled and judged and the
 * outputs written marked interrupted; a second signal exits at once. The command line and exit
 * codes: `npm run chaos -- --help`.
 */
import { exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { outputsOnFailure } from '../cli/could-not-run.js';
import { defineCommand, judgedRunExitCodes, type ParsedCommandLine } from '../cli/command-spec.js';
import { runCommand } from '../cli/run-command.js';
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

const command = defineCommand({
  name: 'chaos',
  purpose: 'runs a chaos drill: steady state, faults, abort rule, recovery times, invariants and SLOs judged',
  positionals: [{ name: 'drill.yaml', description: 'the drill file (chaos/README.md)' }],
  options: {
    json: { type: 'string', placeholder: 'FILE', description: 'write the summary as JSON (docs/summaries.md)' },
    html: { type: 'string', placeholder: 'FILE', description: 'write a self-contained HTML report' },
    quiet: { type: 'boolean', description: 'no progress or drill log' },
    target: {
      type: 'string',
      choices: ['local', 'compose'],
      default: 'local',
      description: 'start the topology here, or drill the docker-compose one',
    },
    'compose-project': { type: 'string', placeholder: 'P', description: 'with --target compose: the compose project' },
    'compose-file': { type: 'string', placeholder: 'F', description: 'with --target compose: the compose file' },
    'compose-url': { type: 'string', multiple: true, placeholder: 'ws://…', description: "with --target compose: the gateways' URLs" },
    'token-secret': {
      type: 'string',
      placeholder: 'S',
      description: "with --target compose: the gateways' token secret (default CHAT_TOKEN_SECRET)",
    },
  },
  exitCodes: judgedRunExitCodes({
    ok: 'every invariant and SLO held and every fault recovered in time',
    invariant: 'an invariant was violated (lost, reordered, duplicated…)',
    slo: 'an SLO was missed: steady state, recovery bound, or the drill aborted',
    couldNotRun:
      'could not be carried out (bad file, topology would not start, a fault could not be injected); --json/--html still written, saying why',
    interrupted: 'faults healed, the load settled and judged, outputs marked interrupted',
  }),
  badArgumentsCode: ChaosErrorCodes.BAD_ARGUMENTS,
});

// A drill that could not be carried out still leaves the outputs it was asked for, saying why.
const failure = outputsOnFailure('chaos', (name) => `Chaos drill · ${name}`);

await runCommand(command, main, { onFailure: failure.onFailure });

async function main({ values, positionals }: ParsedCommandLine<typeof command.options>): Promise<number> {
  const drill = await readDrill(positionals[0]!);
  failure.named(drill.name);
  if (values.target === 'compose' && drill.topology.world === 'embedded')
    throw new ToolError(ChaosErrorCodes.BAD_ARGUMENTS, `${drill.name} runs the embedded world, which --target compose does not have`);
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
  log(
    `drill ${drill.name}: ${drill.faults.length} fault(s), load ${drill.scenario.name} for ${drill.scenario.duration_s} s on ${drill.gateways} gateway(s), target ${values.target}`,
  );
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
    process.stdout.write(
      `${formatTimeline(result.timeSeries, result.faults)}\n\n${formatFaults(result.faults)}\n\n${formatSummary(result.summary)}\n`,
    );
    if (result.error) process.stderr.write(`could not carry out the drill as written: ${result.error}\n`);
    await writeDrillOutputs(drill, result, { json: values.json, html: values.html });
    return result.exitCode;
  } catch (error) {
    progress?.end();
    throw error;
  }
}
