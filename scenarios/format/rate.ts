import type { Scenario } from './scenario-schema.js';

/*
 * The send-rate model both consumers share, so a scenario offers the same load in the simulator and
 * on real sockets: base rate × rate-curve multiplier (linear between points) × spike multiplier.
 */

/** Aggregate messages per second before curve and spikes. */
export function baseMessagesPerS(scenario: Scenario): number {
  const t = scenario.traffic;
  if (t.messages_per_s !== undefined) return t.messages_per_s;
  return (scenario.population.users * (t.messages_per_user_per_day ?? 0)) / 86_400;
}

/** The rate-curve multiplier at a time (seconds from the start): 1 when no curve is given. */
export function curveMultiplierAt(scenario: Scenario, atS: number): number {
  const points = [...scenario.traffic.rate_curve].sort((a, b) => a.at_s - b.at_s);
  if (points.length === 0) return 1;
  const first = points[0]!;
  if (atS <= first.at_s) return first.multiplier;
  for (let i = 1; i < points.length; i++) {
    const right = points[i]!;
    if (atS <= right.at_s) {
      const left = points[i - 1]!;
      const span = right.at_s - left.at_s;
      return span === 0 ? right.multiplier : left.multiplier + ((atS - left.at_s) / span) * (right.multiplier - left.multiplier);
    }
  }
  return points[points.length - 1]!.multiplier;
}

export function spikeMultiplierAt(scenario: Scenario, atS: number): number {
  let multiplier = 1;
  for (const s of scenario.traffic.spikes) {
    if (atS >= s.at_s && atS < s.at_s + s.duration_s) multiplier *= s.multiplier;
  }
  return multiplier;
}

/** Aggregate messages per second the scenario asks for at a time. */
export function messagesPerSAt(scenario: Scenario, atS: number): number {
  return baseMessagesPerS(scenario) * curveMultiplierAt(scenario, atS) * spikeMultiplierAt(scenario, atS);
}

/** Mean devices per user from the devices_per_user shares. */
export function meanDevicesPerUser(scenario: Scenario): number {
  return scenario.population.devices_per_user.reduce((sum, share, i) => sum + share * (i + 1), 0);
}
