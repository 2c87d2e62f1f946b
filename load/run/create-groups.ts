import type { DeviceFleet } from '../device-fleet.js';
import { codeOf, type EncryptionLayer } from '../encryption.js';
import type { PlannedGroup } from '../plan.js';
import { groupNameOf, type TrafficGenerator } from '../traffic.js';

/** Groups created at once during setup. */
const GROUP_CREATE_CONCURRENCY = 16;
/** A member owned by another shard may not exist yet: retry UNKNOWN_USER this often, this far apart. */
const GROUP_CREATE_ATTEMPTS = 20;
const GROUP_CREATE_RETRY_MS = 500;

/** Creates this shard's groups from their creators' devices; returns how many were created. */
export async function createGroups(
  groups: readonly PlannedGroup[],
  fleet: DeviceFleet,
  traffic: TrafficGenerator,
  userIds: readonly string[],
  runId: string,
  failures: Record<string, number>,
  encryption: EncryptionLayer | undefined,
): Promise<number> {
  let created = 0;
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++]!;
      const creatorId = userIds[group.creatorIndex]!;
      const memberIds = group.memberIndexes.map((i) => userIds[i]!);
      const device = fleet.devices.find((d) => d.user.userId === creatorId && d.client);
      if (!device) {
        failures.creator_offline = (failures.creator_offline ?? 0) + 1;
        continue;
      }
      for (let attempt = 1; attempt <= GROUP_CREATE_ATTEMPTS; attempt++) {
        try {
          const name = groupNameOf(runId, group);
          // An all-encrypted group is founded as an MLS group with every member device right away.
          const conversationId = encryption?.plan.groupIndexes.has(group.index)
            ? await encryption.createGroup(device, name, memberIds)
            : (await device.client!.createGroup(name, memberIds)).conversationId;
          traffic.learnGroup(group.index, conversationId, [creatorId, ...memberIds]);
          created++;
          break;
        } catch (error) {
          const code = codeOf(error);
          if (code === 'UNKNOWN_USER' && attempt < GROUP_CREATE_ATTEMPTS) {
            await new Promise((resolve) => setTimeout(resolve, GROUP_CREATE_RETRY_MS));
            continue;
          }
          failures[code] = (failures[code] ?? 0) + 1;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(GROUP_CREATE_CONCURRENCY, groups.length) }, worker));
  return created;
}
