import { defaultTargetOf, type FaultKind, type Scenario } from '../../scenarios/format/index.js';
import { exponential } from '../../scenarios/plan/index.js';
import { streamOf } from '../../system/adapters/virtual/seed-streams.js';

/** One fault as it will run: times in seconds from the start of the load. */
export interface PlannedFault {
  kind: FaultKind;
  target: string;
  atS: number;
  durationS: number;
  extraLatencyMs?: number;
  share?: number;
  /** Drawn from the seed (random_faults) rather than written in the scenario. */
  random: boolean;
}

/**
 * The faults of a run: the scenario's schedule plus, with random_faults, faults drawn from the
 * seed (Poisson arrivals at per_hour, kinds uniformly, exponential durations), all within the
 * safety phase. The same seed always draws the same faults.
 */
export function planFaults(scenario: Scenario, seed: number): PlannedFault[] {
  const planned: PlannedFault[] = scenario.faults.map((f) => {
    const out: PlannedFault = {
      kind: f.kind,
      target: f.target ?? defaultTargetOf(f.kind),
      atS: f.at_s,
      durationS: f.duration_s,
      random: false,
    };
    if (f.extra_latency_ms !== undefined) out.extraLatencyMs = f.extra_latency_ms;
    if (f.share !== undefined) out.share = f.share;
    return out;
  });
  const random = scenario.random_faults;
  if (random) {
    const rng = streamOf(seed, 'faults');
    const meanGapS = 3600 / random.per_hour;
    for (let t = exponential(meanGapS, rng); t < scenario.duration_s; t += exponential(meanGapS, rng)) {
      const kind = random.kinds[Math.floor(rng.nextFloat() * random.kinds.length)]!;
      let target = defaultTargetOf(kind);
      if (kind === 'gateway_crash' || kind === 'gateway_pause')
        target = `gateway-${Math.floor(rng.nextFloat() * scenario.topology.gateways)}`;
      const fault: PlannedFault = {
        kind,
        target,
        atS: Math.round(t * 10) / 10,
        durationS: Math.max(1, Math.round(exponential(random.duration_s, rng))),
        random: true,
      };
      if (kind === 'network_latency') fault.extraLatencyMs = 200;
      if (kind === 'slow_consumer') fault.share = 0.01;
      planned.push(fault);
    }
  }
  return planned.sort((a, b) => a.atS - b.atS);
}
