import type { ConversationEvent } from '../../system/core/events.js';
import type { DeviceAddress } from '../../system/core/ids.js';
import type { Workload } from '../workload/workload.js';
import type { SimWorld } from '../../system/worlds/simulated/sim-world.js';

/**
 * Test-only adapter bugs the simulator must catch (issue: "a planted bug is caught"). Each
 * changes one backend behaviour in a way a real store might fail.
 */

/**
 * The inbox loses one write: after `afterMs` of virtual time, the first message of a 1:1
 * conversation queued for a device that is offline. Nothing else tells that device the message
 * exists (a lost write in the middle of a conversation is repaired by the client's gap sync, so
 * it would prove nothing), so durability must flag it once the device is quiesced.
 */
export function dropOneInboxWrite(afterMs: number): {
  plant: (world: SimWorld, workload: Workload) => void;
  dropped: () => string | undefined;
} {
  let dropped: string | undefined;
  const plant = (world: SimWorld, workload: Workload) => {
    const inbox = world.backends.inbox;
    const enqueue = inbox.enqueue.bind(inbox);
    const enqueueMany = inbox.enqueueMany.bind(inbox);
    /** Whether this is the write to lose (and, if so, notes it: only one is lost). */
    const loses = (device: DeviceAddress, event: ConversationEvent): boolean => {
      if (
        dropped === undefined &&
        event.kind === 'message' &&
        event.seq === 1 &&
        event.conversationId.startsWith('dm:') &&
        workload.time.nowMs() >= afterMs &&
        !isOnline(workload, device)
      ) {
        dropped = `${event.conversationId} seq ${event.seq} for ${device.userId}/${device.deviceId}`;
        return true;
      }
      return false;
    };
    inbox.enqueue = (device: DeviceAddress, event: ConversationEvent) =>
      loses(device, event) ? Promise.resolve() : enqueue(device, event);
    // The fan-out queues a whole event's copies in one batch: the lost write is one device's of it.
    inbox.enqueueMany = (devices: readonly DeviceAddress[], event: ConversationEvent) =>
      enqueueMany(
        devices.filter((device) => !loses(device, event)),
        event,
      );
  };
  return { plant, dropped: () => dropped };
}

function isOnline(workload: Workload, device: DeviceAddress): boolean {
  const p = workload.population;
  const user = Number(device.userId.slice(1));
  const index = p.firstDevice[user]! + Number(device.deviceId.slice(1));
  return workload.live[index] !== undefined;
}

/**
 * The message store forgets idempotency: a retried send (same clientMessageId) is stored again
 * under a new seq. With client retries after timeouts, no-duplicates must flag it.
 */
export function forgetIdempotency(world: SimWorld): void {
  const messages = world.backends.messages;
  const original = messages.append.bind(messages);
  let salt = 0;
  messages.append = (draft) =>
    original(draft.kind === 'message' ? { ...draft, clientMessageId: `${draft.clientMessageId}~${++salt}` } : draft).then((result) =>
      result.event.kind === 'message'
        ? {
            ...result,
            event: { ...result.event, clientMessageId: draft.kind === 'message' ? draft.clientMessageId : result.event.clientMessageId },
          }
        : result,
    );
}
