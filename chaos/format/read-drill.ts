import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { defaultTargetOf, parseScenario, readScenario, ScenarioError, type Scenario } from '../../scenarios/format/index.js';
import { ChaosErrorCodes } from '../error-codes.js';
import { drillSchema, type DrillFault, type DrillFile, type DrillSurge } from './drill-schema.js';
import { ToolError } from '../../cli/tool-error.js';

/** A fault with its target filled in. */
export type ResolvedFault = DrillFault & { target: string };

/** A drill ready to run: its scenario loaded with the overrides applied and every default resolved. */
export interface Drill {
  name: string;
  description: string;
  source: string;
  scenarioPath: string;
  /** The load; its own faults are cleared (the drill owns the schedule) and topology set. */
  scenario: Scenario;
  gateways: number;
  topology: DrillFile['topology'] & { gateways: number };
  steadyState: Scenario['slo'];
  faults: ResolvedFault[];
  /** Surges of offered load; already added to the scenario's spikes, listed here to be judged. */
  surges: DrillSurge[];
  memory: DrillFile['memory'];
  abort: DrillFile['abort'] & { max_duration_s: number };
  recovery: DrillFile['recovery'] & { deliver_p99_ms: number };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`).join('\n');
}

function invalid(source: string, problems: string[]): ToolError {
  return new ToolError(ChaosErrorCodes.DRILL_INVALID, `${source}: not a valid drill:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

export function parseDrillFile(document: unknown, source: string): DrillFile {
  const result = drillSchema.safeParse(document);
  if (!result.success) throw new ToolError(ChaosErrorCodes.DRILL_INVALID, `${source}: not a valid drill:\n${describeIssues(result.error)}`);
  return result.data;
}

/** Combines a validated drill file with its (already read) scenario; checks what spans both. */
export function resolveDrill(file: DrillFile, source: string, scenarioPath: string, baseScenario: Scenario): Drill {
  const o = file.overrides;
  const gateways = file.topology.world === 'embedded' ? 1 : (file.topology.gateways ?? baseScenario.topology.gateways);
  const merged = {
    ...baseScenario,
    seed: o.seed ?? baseScenario.seed,
    duration_s: o.duration_s ?? baseScenario.duration_s,
    liveness_bound_s: o.liveness_bound_s ?? baseScenario.liveness_bound_s,
    warmup_s: o.warmup_s ?? baseScenario.warmup_s,
    population: { ...baseScenario.population, users: o.users ?? baseScenario.population.users },
    traffic:
      o.messages_per_s === undefined
        ? baseScenario.traffic
        : { ...baseScenario.traffic, messages_per_s: o.messages_per_s, messages_per_user_per_day: undefined },
    topology: { gateways },
    faults: [],
  };
  if (file.surges.length > 0) {
    const traffic = { ...merged.traffic };
    traffic.spikes = [...traffic.spikes, ...file.surges.map((s) => ({ at_s: s.at_s, duration_s: s.duration_s, multiplier: s.multiplier }))];
    merged.traffic = traffic;
  }
  let scenario: Scenario;
  try {
    scenario = parseScenario(merged, `${scenarioPath} with the overrides of ${source}`);
  } catch (error) {
    if (error instanceof ScenarioError) throw new ToolError(ChaosErrorCodes.DRILL_INVALID, error.message);
    throw error;
  }
  const problems: string[] = [];
  const faults = file.faults.map((f, i): ResolvedFault => {
    const target = f.target ?? defaultTargetOf(f.kind);
    const gateway = /^gateway-(\d+)$/.exec(target);
    if (gateway && Number(gateway[1]) >= gateways)
      problems.push(`faults.${i}.target: ${target} does not exist: the drill runs ${gateways} gateway(s)`);
    const healS = f.at_s + f.duration_s;
    if (healS + file.recovery.hold_s > scenario.duration_s) {
      problems.push(
        `faults.${i}: heals at ${healS} s, leaving less than recovery.hold_s (${file.recovery.hold_s} s) of load before the run ends (${scenario.duration_s} s) to see it recover`,
      );
    }
    if (f.at_s < scenario.warmup_s + file.recovery.window_s) {
      problems.push(
        `faults.${i}.at_s: ${f.at_s} s leaves no pre-fault steady state (warm-up ${scenario.warmup_s} s + recovery.window_s ${file.recovery.window_s} s)`,
      );
    }
    return { ...f, target };
  });
  file.surges.forEach((s, i) => {
    if (s.at_s + s.duration_s + file.recovery.hold_s > scenario.duration_s) {
      problems.push(
        `surges.${i}: ends at ${s.at_s + s.duration_s} s, leaving less than recovery.hold_s (${file.recovery.hold_s} s) of load before the run ends (${scenario.duration_s} s) to see it recover`,
      );
    }
    if (s.at_s < scenario.warmup_s + file.recovery.window_s) {
      problems.push(
        `surges.${i}.at_s: ${s.at_s} s leaves no steady state before it (warm-up ${scenario.warmup_s} s + recovery.window_s ${file.recovery.window_s} s)`,
      );
    }
  });
  if (gateways < 2 && faults.some((f) => f.kind === 'gateway_crash' && f.duration_s === 0)) {
    problems.push('a gateway_crash that never restarts needs at least 2 gateways, or nothing is left to fail over to');
  }
  if (problems.length > 0) throw invalid(source, problems);
  const steadyState = file.steady_state ?? scenario.slo;
  return {
    name: file.name,
    description: file.description,
    source,
    scenarioPath,
    scenario,
    gateways,
    topology: { ...file.topology, gateways },
    steadyState,
    faults,
    surges: file.surges,
    memory: file.memory,
    abort: { ...file.abort, max_duration_s: file.abort.max_duration_s ?? 3 * (scenario.duration_s + scenario.liveness_bound_s) },
    recovery: { ...file.recovery, deliver_p99_ms: file.recovery.deliver_p99_ms ?? steadyState.deliver_p99_ms },
  };
}

export async function parseDrillText(text: string, source: string): Promise<Drill> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message : String(error);
    throw new ToolError(ChaosErrorCodes.DRILL_NOT_YAML, `${source}: not YAML: ${detail}`);
  }
  const file = parseDrillFile(document, source);
  const scenarioPath = path.resolve(path.dirname(path.resolve(source)), file.scenario);
  let scenario: Scenario;
  try {
    scenario = await readScenario(scenarioPath);
  } catch (error) {
    if (error instanceof ScenarioError) throw new ToolError(ChaosErrorCodes.DRILL_INVALID, `${source}: its scenario: ${error.message}`);
    throw error;
  }
  return resolveDrill(file, source, scenarioPath, scenario);
}

export async function readDrill(source: string): Promise<Drill> {
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    throw new ToolError(ChaosErrorCodes.DRILL_UNREADABLE, `${source}: cannot read: ${(error as Error).message}`);
  }
  return parseDrillText(text, source);
}
