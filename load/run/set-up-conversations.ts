import type { LoadRun } from './build-run.js';
import { createGroups } from './create-groups.js';

/** The shard's groups: planned, created, and those not created by error code (the summary's `groups`). */
export interface GroupsOutcome {
  planned: number;
  created: number;
  failures: Record<string, number>;
}

/**
 * The conversations phase, once the devices exist: the encrypted share's MLS sessions and 1:1
 * conversations are founded, this shard's groups are created by their creators, and every
 * encrypted member device has joined its MLS groups before any traffic.
 */
export async function setUpConversations(run: LoadRun): Promise<GroupsOutcome> {
  const { settings, encryption, plan, shardPlan, fleet, traffic } = run;
  const { log, runId } = settings;
  if (encryption) {
    await encryption.startSessions();
    await encryption.foundDirectConversations((index) => plan.users[index]!.userId);
  }
  const groups: GroupsOutcome = { planned: shardPlan.groupsToCreate.length, created: 0, failures: {} };
  groups.created = await createGroups(
    shardPlan.groupsToCreate,
    fleet,
    traffic,
    plan.users.map((u) => u.userId),
    runId,
    groups.failures,
    encryption,
  );
  if (shardPlan.groupsToCreate.length > 0) log(`${groups.created} of ${shardPlan.groupsToCreate.length} groups created`);
  if (encryption) {
    await encryption.waitJoined();
    const e = encryption.report();
    log(
      `end-to-end encrypted (MLS): ${e.users} users, ${e.devices} devices here, ${e.conversations.direct} 1:1 and ${e.conversations.groups} group conversations; setup ${e.setup_s} s`,
    );
  }
  return groups;
}
