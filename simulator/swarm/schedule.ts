import { FAULT_KINDS, defaultTargetOf, type FaultKind, type Scenario, type ScheduledFault } from '../../scenarios/format/index.js';
import type { Uniform } from '../../scenarios/plan/index.js';
import { streamOf } from '../../system/adapters/virtual/seed-streams.js';

/*
 * A seed's fault schedule in the seed swarm (simulator/README.md, "Seed swarm"): which faults,
 * when, on what, for how long, all drawn from the seed. Besides the shared fault kinds a schedule
 * may hold a `surge` (the send rate multiplied for a while), so that a fault can meet a surge.
 */

export const SWARM_KINDS = [...FAULT_KINDS, 'surge'] as const;
export type SwarmKind = (typeof SWARM_KINDS)[number];

/** One entry of a schedule; times in seconds from the start of the load, as in a scenario's faults. */
export interface SwarmFault {
  kind: SwarmKind;
  target: string;
  at_s: number;
  /** 0 for a gateway crash: it stays down until the liveness phase heals everything. */
  duration_s: number;
  extra_latency_ms?: number;
  share?: number;
  /** surge only: the send-rate multiplier. */
  multiplier?: number;
}

export interface ScheduleOptions {
  /** A seed draws 1 to maxFaults entries. */
  maxFaults: number;
  /** The kinds drawn from (all of SWARM_KINDS by default). */
  kinds: readonly SwarmKind[];
}

export const DEFAULT_MAX_FAULTS = 4;
export const DEFAULT_SCHEDULE_OPTIONS: ScheduleOptions = { maxFaults: DEFAULT_MAX_FAULTS, kinds: SWARM_KINDS };

/** Share of entries after the first that start inside an earlier one's window: combinations are the point. */
const OVERLAP_SHARE = 0.6;
/** Share of gateway crashes that stay down until the liveness phase. */
const STAYS_DOWN_SHARE = 0.15;
const TIERS = ['cassandra', 'redis', 's3', 'push'] as const;
const EXTRA_LATENCIES_MS = [50, 300, 1_000, 2_500] as const;
const SLOW_SHARES = [0.05, 0.2, 0.5] as const;
const SURGE_MULTIPLIERS = [2, 3, 5] as const;

function pick<T>(items: readonly T[], rng: Uniform): T {
  return items[Math.floor(rng.nextFloat() * items.length)]!;
}

const tenths = (s: number) => Math.round(s * 10) / 10;

/**
 * The schedule a seed draws for a scenario: the scenario's own written faults first (so that a
 * scenario can pin a fault into every seed), then 1 to maxFaults drawn entries. Kinds uniformly;
 * a gateway fault hits one gateway (now and then all of them); a network fault a tier, the clients
 * or one gateway's clients; start times uniform over the load, or (most entries after the first)
 * inside an earlier entry's window, so that faults combine: a crash during a Cassandra outage, a
 * Redis restart during a surge. The same scenario, seed and options always give the same schedule;
 * the draws come from their own stream of the seed, apart from the run's.
 */
export function drawSchedule(scenario: Scenario, seed: number, options: ScheduleOptions = DEFAULT_SCHEDULE_OPTIONS): SwarmFault[] {
  if (!(options.maxFaults >= 1) || options.kinds.length === 0)
    throw new RangeError('a schedule needs maxFaults >= 1 and at least one kind');
  const rng = streamOf(seed, 'swarm-schedule');
  const lengthS = scenario.duration_s;
  const gateways = scenario.topology.gateways;
  const out: SwarmFault[] = scenario.faults.map(writtenFault);
  const drawn: SwarmFault[] = [];
  const count = 1 + Math.floor(rng.nextFloat() * options.maxFaults);
  for (let i = 0; i < count; i++) {
    const kind = pick(options.kinds, rng);
    let atS: number;
    if (drawn.length > 0 && rng.nextFloat() < OVERLAP_SHARE) {
      const earlier = pick(drawn, rng);
      const window = earlier.duration_s > 0 ? earlier.duration_s : lengthS - earlier.at_s;
      atS = earlier.at_s + rng.nextFloat() * window;
    } else {
      atS = rng.nextFloat() * lengthS;
    }
    atS = Math.min(tenths(atS), tenths(lengthS - 0.1));
    // Between a tenth of a second and half the load.
    const durationS = Math.max(0.1, tenths(0.1 + rng.nextFloat() * (lengthS / 2)));
    const gateway = () => (gateways > 1 && rng.nextFloat() < 0.1 ? 'gateways' : `gateway-${Math.floor(rng.nextFloat() * gateways)}`);
    const fault: SwarmFault = { kind, target: kind === 'surge' ? 'traffic' : defaultTargetOf(kind), at_s: atS, duration_s: durationS };
    switch (kind) {
      case 'gateway_crash':
        fault.target = gateway();
        if (rng.nextFloat() < STAYS_DOWN_SHARE) fault.duration_s = 0;
        break;
      case 'gateway_pause':
        fault.target = gateway();
        break;
      case 'network_latency':
        fault.target = pick([...TIERS, 'clients', `gateway-${Math.floor(rng.nextFloat() * gateways)}`], rng);
        fault.extra_latency_ms = pick(EXTRA_LATENCIES_MS, rng);
        break;
      case 'network_partition':
        fault.target = pick([...TIERS, 'clients', `gateway-${Math.floor(rng.nextFloat() * gateways)}`], rng);
        break;
      case 'slow_consumer':
        fault.share = pick(SLOW_SHARES, rng);
        break;
      case 'surge':
        fault.multiplier = pick(SURGE_MULTIPLIERS, rng);
        break;
      case 'cassandra_outage':
      case 'redis_restart':
        break;
    }
    drawn.push(fault);
  }
  // Stable by start time: the written faults and the drawn ones interleave as they will run.
  return [...out, ...drawn]
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.at_s - b.f.at_s || a.i - b.i)
    .map(({ f }) => f);
}

function writtenFault(f: ScheduledFault): SwarmFault {
  const out: SwarmFault = { kind: f.kind, target: f.target ?? defaultTargetOf(f.kind), at_s: f.at_s, duration_s: f.duration_s };
  if (f.extra_latency_ms !== undefined) out.extra_latency_ms = f.extra_latency_ms;
  if (f.share !== undefined) out.share = f.share;
  return out;
}

/**
 * The scenario a schedule runs as: its faults are the schedule's faults, its spikes the
 * scenario's own plus the schedule's surges, and nothing is drawn on top (no random_faults).
 */
export function scenarioWithSchedule(scenario: Scenario, schedule: readonly SwarmFault[]): Scenario {
  const faults: ScheduledFault[] = [];
  const spikes = [...scenario.traffic.spikes];
  for (const f of schedule) {
    if (f.kind === 'surge') {
      spikes.push({ at_s: f.at_s, duration_s: Math.max(0.1, f.duration_s), multiplier: f.multiplier ?? 2 });
      continue;
    }
    const out: ScheduledFault = { kind: f.kind as FaultKind, target: f.target, at_s: f.at_s, duration_s: f.duration_s };
    if (f.extra_latency_ms !== undefined) out.extra_latency_ms = f.extra_latency_ms;
    if (f.share !== undefined) out.share = f.share;
    faults.push(out);
  }
  const { random_faults: _drawnByTheSimulator, ...rest } = scenario;
  return { ...rest, faults, traffic: { ...scenario.traffic, spikes } };
}

/** One line per entry: `gateway_crash gateway-1 at 2.3 s for 1.5 s`. */
export function formatFault(f: SwarmFault): string {
  const extra =
    f.extra_latency_ms !== undefined
      ? ` +${f.extra_latency_ms} ms`
      : f.share !== undefined
        ? ` share ${f.share}`
        : f.multiplier !== undefined
          ? ` ×${f.multiplier}`
          : '';
  const length = f.kind === 'gateway_crash' && f.duration_s === 0 ? 'down until healing' : `for ${f.duration_s} s`;
  return `${f.kind} ${f.target}${extra} at ${f.at_s} s ${length}`;
}

/** The schedule as lines of a scenario file (faults, and surges as spikes), to pin a failing schedule in a scenario of its own. */
export function scheduleAsYaml(schedule: readonly SwarmFault[]): string {
  const faults = schedule.filter((f) => f.kind !== 'surge');
  const surges = schedule.filter((f) => f.kind === 'surge');
  const lines: string[] = [];
  if (faults.length > 0) {
    lines.push('faults:');
    for (const f of faults) {
      const extra =
        f.extra_latency_ms !== undefined ? `, extra_latency_ms: ${f.extra_latency_ms}` : f.share !== undefined ? `, share: ${f.share}` : '';
      lines.push(`  - { kind: ${f.kind}, target: ${f.target}, at_s: ${f.at_s}, duration_s: ${f.duration_s}${extra} }`);
    }
  }
  if (surges.length > 0) {
    lines.push('# under traffic:');
    lines.push('spikes:');
    for (const f of surges) lines.push(`  - { at_s: ${f.at_s}, duration_s: ${f.duration_s}, multiplier: ${f.multiplier ?? 2} }`);
  }
  return lines.join('\n');
}

/** `--kinds a,b`: the kinds named, each one of SWARM_KINDS. */
export function parseKinds(text: string): SwarmKind[] {
  const kinds = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  const unknown = kinds.filter((k) => !(SWARM_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0)
    throw new RangeError(`--kinds takes a comma-separated list of ${SWARM_KINDS.join(', ')}; got "${text}"`);
  return [...new Set(kinds)] as SwarmKind[];
}

/** `--faults 0,2,5` (indexes into the seed's drawn schedule of `drawn` entries) or `none`. */
export function parseFaultIndexes(text: string, drawn: number): number[] {
  if (text.trim() === 'none') return [];
  const indexes = text.split(',').map((t) => Number(t.trim()));
  const bad = indexes.filter((i) => !Number.isSafeInteger(i) || i < 0 || i >= drawn);
  if (indexes.length === 0 || bad.length > 0)
    throw new RangeError(`--faults takes indexes 0…${drawn - 1} of the seed's drawn schedule, comma-separated, or none; got "${text}"`);
  return [...new Set(indexes)].sort((a, b) => a - b);
}
