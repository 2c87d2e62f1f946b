import type { ConversationId } from '../../system/core/ids.js';
import type { MessageStore } from '../../system/ports/message-store.js';
import type { Workload } from '../workload/workload.js';
import type { SimWorld } from '../../system/worlds/simulated/sim-world.js';
import { forgetIdempotency } from '../testing/planted-bugs.js';

/*
 * Deliberately broken variants the seed swarm can run against (`--plant-bug NAME`), to show that
 * it finds and shrinks a bug that only some fault schedules expose. Each is planted through the
 * simulator's test seam (SimOptions.plant) after the set-up; the production code path has no
 * switch for them.
 */

export interface PlantedBug {
  name: string;
  /** What is broken, and which schedules expose it. */
  description: string;
  plant(world: SimWorld, workload: Workload): void;
}

export const PLANTED_BUGS: Record<string, PlantedBug> = {
  'stale-head-after-restart': {
    name: 'stale-head-after-restart',
    description:
      'a gateway that starts while Cassandra is out numbers its first message to each conversation from a stale head, one seq too low ' +
      '(the seq of a message that exists): only a gateway crash whose restart falls inside a Cassandra outage exposes it',
    plant: plantStaleHeadAfterRestart,
  },
  'idempotency-forgotten': {
    name: 'idempotency-forgotten',
    description:
      'the message store stores a retried send (same clientMessageId) again under a new seq: only schedules that make clients retry expose it',
    plant(world) {
      forgetIdempotency(world);
    },
  },
};

export function plantedBugNamed(name: string): PlantedBug {
  const bug = PLANTED_BUGS[name];
  if (!bug) throw new RangeError(`no planted bug "${name}" (known: ${Object.keys(PLANTED_BUGS).join(', ')})`);
  return bug;
}

/**
 * Every gateway incarnation that starts while the Cassandra tier is unavailable gets a message
 * store whose first new append to each conversation answers one seq lower than the one it was
 * stored at: the send is acknowledged, and fanned out, under the seq of an earlier message. A
 * gateway that starts while Cassandra answers (the first start, a restart outside an outage, the
 * liveness phase's restarts after healing) is not affected.
 */
function plantStaleHeadAfterRestart(world: SimWorld): void {
  const cassandra = world.tiers.cassandra;
  for (const gateway of world.gateways) {
    const previous = gateway.deps.wrapMessageStore;
    gateway.deps.wrapMessageStore = (store, g) => {
      const inner = previous ? previous(store, g) : store;
      if (cassandra.isAvailable) return inner;
      const numbered = new Set<ConversationId>();
      const stale: MessageStore = Object.create(inner) as MessageStore;
      stale.append = async (draft) => {
        const result = await inner.append(draft);
        if (result.duplicate || numbered.has(draft.conversationId)) return result;
        numbered.add(draft.conversationId);
        return result.event.seq > 1 ? { ...result, event: { ...result.event, seq: result.event.seq - 1 } } : result;
      };
      return stale;
    };
  }
}
