import { PlannedPopulation } from '../../scenarios/plan/index.js';

/**
 * The simulator's population: the shared plan of the scenario and seed (scenarios/plan, the same
 * users, devices, contacts and groups `npm run load` drives), in its compact typed arrays, plus
 * what the run learns about it — each group's conversation id once the set-up has created it.
 * An offline user costs the plan's few bytes (plus what the stores hold for them); objects exist
 * only for devices that are online.
 */
export class Population extends PlannedPopulation {
  /** Conversation id of each group once created. */
  readonly groupConversation: string[] = [];
}
