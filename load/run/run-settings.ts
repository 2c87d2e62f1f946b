import type { Scenario } from '../../scenarios/format/index.js';
import { resolveLiveSection, type ResolvedLiveSection } from '../../scenarios/format/live-section.js';
import { ToolError } from '../../cli/tool-error.js';
import type { EmbeddedTarget } from '../embedded-target.js';
import { LoadErrorCodes } from '../error-codes.js';
import { WHOLE_RUN } from '../shard.js';
import { objectivesOf, parseSloOverrides, withOverrides, type ObjectiveSpec } from '../slo-gate.js';
import type { FaultHandling, LoadOptions, ShardSpec } from '../types.js';

export interface RunLoadOptions extends LoadOptions {
  /** Prefix of every user id; shards of one run must share it. Default: scenario name + time. */
  runId?: string;
  /** Label matchers added to every PromQL selector (e.g. `job="chat"`). */
  prometheusSelector?: string;
  /**
   * An embedded target the caller started and stops (`--serve` keeps it up after the run); used
   * instead of starting one when there are no `targets`.
   */
  embedded?: EmbeddedTarget;
}

/** What a run does, resolved from the scenario and the options before anything starts. */
export interface RunSettings {
  readonly scenario: Scenario;
  readonly options: RunLoadOptions;
  readonly log: (line: string) => void;
  /** The scenario's `live:` section with its defaults. */
  readonly live: ResolvedLiveSection;
  readonly shard: ShardSpec;
  /** The traffic phase's length (the scenario's, or the option's). */
  readonly durationS: number;
  readonly faultHandling: FaultHandling;
  /** The scenario's objectives with the `--slo` overrides applied. */
  readonly sloSpecs: ObjectiveSpec[];
  /** Prefix of every user id of the run. */
  readonly runId: string;
}

const RUN_ID_PATTERN = /^[A-Za-z0-9_.-]{1,40}$/;

/**
 * The resolve phase: the options checked against the scenario (a run that cannot be carried out
 * is refused here, before any target is started) and the run's objectives and run id.
 */
export function resolveRunSettings(scenario: Scenario, options: RunLoadOptions): RunSettings {
  const log = options.log ?? (() => undefined);
  const live = resolveLiveSection(scenario.live);
  const shard = options.shard ?? WHOLE_RUN;
  const durationS = options.durationS ?? scenario.duration_s;
  if (!(durationS > 0)) throw new ToolError(LoadErrorCodes.BAD_OPTION, `duration must be > 0 s, got ${durationS}`);
  const faultHandling = options.faults ?? live.faults;
  if (scenario.faults.length > 0 && faultHandling === 'refuse') {
    throw new ToolError(
      LoadErrorCodes.FAULTS_NOT_INJECTED,
      `scenario ${scenario.name} lists ${scenario.faults.length} fault(s) (${scenario.faults.map((f) => f.kind).join(', ')}); ` +
        'the load driver does not inject faults: run it as a chaos drill (npm run chaos), or pass --faults skip to run the load without them',
    );
  }
  const sloSpecs = withOverrides(objectivesOf(scenario.slo), parseSloOverrides(options.slo ?? {}));
  if (shard.count > 1 && options.runId === undefined) {
    throw new ToolError(LoadErrorCodes.BAD_OPTION, 'sharded runs need a --run-id shared by every shard (their users must agree)');
  }
  const runId = options.runId ?? `${scenario.name.slice(0, 24)}-${Date.now().toString(36)}`;
  if (!RUN_ID_PATTERN.test(runId))
    throw new ToolError(LoadErrorCodes.BAD_OPTION, `run id must be 1-40 of A-Z a-z 0-9 _ . -, got "${runId}"`);
  return { scenario, options, log, live, shard, durationS, faultHandling, sloSpecs, runId };
}
