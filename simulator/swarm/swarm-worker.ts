import type { Scenario } from '../../scenarios/format/index.js';
import type { FromWorker, ToWorker } from './executor.js';
import { seedOutcome } from './run-seed.js';

/*
 * A worker process of the seed swarm's pool (executor.ts): takes the scenario once, then runs the
 * seeds it is sent one at a time and answers each with its outcome. Exits when the pool lets go.
 */

let scenario: Scenario | undefined;

process.on('message', (message: ToWorker) => {
  if (message.type === 'init') {
    scenario = message.scenario;
    return;
  }
  if (!scenario) throw new Error('swarm worker: a seed arrived before the scenario');
  void seedOutcome(scenario, message.job).then((outcome) => {
    process.send?.({ type: 'done', id: message.id, outcome } satisfies FromWorker);
  });
});
process.on('disconnect', () => process.exit(0));
