import { parseScenarioText, type Scenario } from '../../scenarios/format/index.js';

/** A small scenario for tests: a few hundred users for a few simulated seconds, with extra YAML appended. */
export function tinyScenario(extra = '', overrides: { users?: number; durationS?: number; gateways?: number } = {}): Scenario {
  return parseScenarioText(
    `name: tiny
duration_s: ${overrides.durationS ?? 20}
warmup_s: 2
liveness_bound_s: 30
topology: { gateways: ${overrides.gateways ?? 2} }
population:
  users: ${overrides.users ?? 150}
  devices_per_user: [0.7, 0.3]
  online_share: 0.7
  session_length_s: { kind: exponential, mean: 8 }
traffic:
  messages_per_s: 25
  group_share: 0.3
  media: { share: 0.05, bytes: { kind: lognormal, median: 20000, sigma: 1, max: 200000 } }
  reads: { share: 0.5, delay_s: { kind: exponential, mean: 1 } }
groups:
  per_user: 0.05
  size: { kind: zipf, exponent: 1.3, min: 3, max: 24 }
sim:
  clients: { presence_watch_contacts: 2 }
${extra}`,
    'tiny.yaml',
  );
}
