import {
  baseMessagesPerS,
  curveMultiplierAt,
  meanDevicesPerUser,
  meanOf,
  spikeMultiplierAt,
  type Scenario,
} from '../../scenarios/format/index.js';
import { validateAssumptions, type CapacityAssumptions } from './capacity-assumptions.js';
import { CapacityErrorCodes } from './capacity-error-codes.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * The capacity model (issue 4, item 9): from a scenario's population and rates and per-node
 * capacities, what each tier needs. Pure arithmetic on expected values; docs/capacity.md gives
 * every formula and which input drives which figure.
 */

export const SECONDS_PER_DAY = 86_400;

/** The scenario figures the plan is built from (expected values). */
export interface CapacityInputs {
  users: number;
  devicesPerUser: number;
  onlineShare: number;
  messagesPerDay: number;
  messageBytesMean: number;
  groupShare: number;
  /** Members of the group a group message goes to, hot groups weighted by their traffic share. */
  groupMembersMean: number;
  readShare: number;
  mediaShare: number;
  mediaBytesMean: number;
  sessionLengthSMean: number;
  /** Highest rate-curve × spike multiplier within the scenario's duration. */
  scenarioPeakMultiplier: number;
}

export interface TierNeed {
  /** What the tier needs, provisioned with headroom and rounded up. */
  count: number;
  /** Which limit decides the count. */
  boundBy: string;
  /** The count each limit alone would need, before headroom (fractional). */
  byLimit: Record<string, number>;
}

export interface CapacityPlan {
  scenario: string;
  inputs: CapacityInputs;
  assumptions: CapacityAssumptions;
  traffic: {
    messagesPerSAverage: number;
    messagesPerSPeak: number;
    /** Users other than the sender that receive a message (1 for 1:1, members − 1 for a group). */
    recipientUsersPerMessage: number;
    /** Devices that get a copy: every recipient device plus the sender's other devices. */
    recipientDevicesPerMessage: number;
    /** Copies fanned out per second at peak (inbox entries written). */
    fanoutCopiesPerSPeak: number;
    /** Copies pushed live to connected devices per second at peak. */
    liveDeliveriesPerSPeak: number;
  };
  connections: {
    concurrent: number;
    /** New sessions per second (each also ends one): connections ÷ mean session length. */
    sessionsPerS: number;
  };
  storage: {
    /** The card's figure: content bytes of one copy of each message. */
    textBytesPerDay: number;
    /** The message log: one copy per message with overhead, times the replication factor. */
    messageLogBytesPerDay: number;
    /** Fan-out copies written to inboxes (overhead and replication included); deleted on acknowledgement. */
    inboxBytesWrittenPerDay: number;
    /** Media objects (stored once in object storage, shared by all recipients). */
    mediaBytesPerDay: number;
    /** Everything written per day. */
    totalBytesWrittenPerDay: number;
    /** Message log kept in Cassandra over retentionDays (replicated). */
    messageLogBytesRetained: number;
  };
  gateway: TierNeed & { framesPerSPeak: number };
  cassandra: TierNeed & { replicaWritesPerSPeak: number; writesPerMessage: { log: number; inbox: number; receipts: number } };
  redis: TierNeed & { opsPerSPeak: number; memoryBytes: number };
}

/** The highest multiplier the rate curve and spikes reach within [0, duration_s] (exact: both are piecewise linear/constant). */
export function scenarioPeakMultiplier(scenario: Scenario): number {
  const end = scenario.duration_s;
  const times = new Set<number>([0, end]);
  for (const p of scenario.traffic.rate_curve) if (p.at_s <= end) times.add(p.at_s);
  for (const s of scenario.traffic.spikes) {
    if (s.at_s <= end) times.add(s.at_s);
    if (s.at_s + s.duration_s <= end) times.add(s.at_s + s.duration_s);
  }
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  // Between neighbouring breakpoints the spikes are constant (as at the left end) and the curve is linear.
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    const b = sorted[i + 1] ?? a;
    const curve = Math.max(curveMultiplierAt(scenario, a), curveMultiplierAt(scenario, b));
    peak = Math.max(peak, curve * spikeMultiplierAt(scenario, a));
  }
  return peak;
}

/** Members of the group a group message lands in, with hot groups taking their fixed traffic shares. */
function groupMembersMean(scenario: Scenario): number {
  const hot = scenario.groups.hot;
  const hotShare = hot.reduce((sum, h) => sum + h.traffic_share, 0);
  if (hotShare > 1 + 1e-9) {
    throw new ToolError(CapacityErrorCodes.BAD_SCENARIO, `groups.hot traffic shares add up to ${hotShare}, more than 1`);
  }
  const hotMembers = hot.reduce((sum, h) => sum + h.traffic_share * h.size, 0);
  return hotMembers + (1 - hotShare) * meanOf(scenario.groups.size);
}

export function capacityInputsOf(scenario: Scenario): CapacityInputs {
  const t = scenario.traffic;
  const messagesPerDay = baseMessagesPerS(scenario) * SECONDS_PER_DAY;
  if (!(messagesPerDay > 0)) throw new ToolError(CapacityErrorCodes.BAD_SCENARIO, `${scenario.name}: the scenario sends no messages`);
  return {
    users: scenario.population.users,
    devicesPerUser: meanDevicesPerUser(scenario),
    onlineShare: scenario.population.online_share,
    messagesPerDay,
    messageBytesMean: meanOf(t.message_bytes),
    groupShare: t.group_share,
    groupMembersMean: groupMembersMean(scenario),
    readShare: t.reads.share,
    mediaShare: t.media.share,
    mediaBytesMean: meanOf(t.media.bytes),
    sessionLengthSMean: meanOf(scenario.population.session_length_s),
    scenarioPeakMultiplier: scenarioPeakMultiplier(scenario),
  };
}

/** The limit with the largest need decides; headroom applies to it; the count is rounded up. */
function tierNeed(byLimit: Record<string, number>, headroom: number): TierNeed {
  let boundBy = '';
  let need = 0;
  for (const [limit, n] of Object.entries(byLimit)) {
    if (n > need || boundBy === '') {
      need = n;
      boundBy = limit;
    }
  }
  // The tiny epsilon keeps float noise (50 000.000000001) from adding a whole server.
  return { count: Math.max(1, Math.ceil(need * headroom - 1e-9)), boundBy, byLimit };
}

/** Derives what each tier needs for a scenario. Pure; throws ToolError on unusable assumptions or scenarios. */
export function deriveCapacity(scenario: Scenario, assumptions: CapacityAssumptions): CapacityPlan {
  validateAssumptions(assumptions);
  const a = assumptions;
  const i = capacityInputsOf(scenario);

  // Traffic. Recipient devices are online independently with probability onlineShare.
  const messagesPerSAverage = i.messagesPerDay / SECONDS_PER_DAY;
  const messagesPerSPeak = messagesPerSAverage * i.scenarioPeakMultiplier * a.peakToAverage;
  const recipientUsers = (1 - i.groupShare) * 1 + i.groupShare * Math.max(0, i.groupMembersMean - 1);
  const recipientDevices = recipientUsers * i.devicesPerUser + (i.devicesPerUser - 1);
  const fanoutCopiesPerSPeak = messagesPerSPeak * recipientDevices;
  const liveDeliveriesPerSPeak = fanoutCopiesPerSPeak * i.onlineShare;

  // Connections.
  const concurrent = i.users * i.devicesPerUser * i.onlineShare;
  const sessionsPerS = concurrent / i.sessionLengthSMean;

  // Storage per day.
  const copyBytes = i.messageBytesMean + a.messageOverheadBytes;
  const textBytesPerDay = i.messagesPerDay * i.messageBytesMean;
  const messageLogBytesPerDay = i.messagesPerDay * copyBytes * a.replicationFactor;
  const inboxBytesWrittenPerDay = i.messagesPerDay * recipientDevices * copyBytes * a.replicationFactor;
  const mediaBytesPerDay = i.messagesPerDay * i.mediaShare * i.mediaBytesMean;

  // Gateways: a send comes in and its ack goes out; each live copy goes out, and its delivered
  // (and, for read ones, read) receipt comes in from the recipient and goes out to the sender.
  const heartbeatsPerS = concurrent / a.heartbeatIntervalS;
  const framesPerSPeak = messagesPerSPeak * 2 + liveDeliveriesPerSPeak * (1 + 2 * (1 + i.readShare)) + heartbeatsPerS;
  const gateway = tierNeed(
    { connections: concurrent / a.connectionsPerGateway, frames: framesPerSPeak / a.framesPerGatewayPerS },
    a.headroom,
  );

  // Cassandra: the log rows; per copy an inbox write and its removal on acknowledgement; per copy a
  // delivered watermark and, for read ones, a read watermark. Every write lands on RF replicas.
  const writesPerMessage = {
    log: a.logWritesPerMessage,
    inbox: 2 * recipientDevices,
    receipts: recipientDevices * (1 + i.readShare),
  };
  const replicaWritesPerSPeak =
    messagesPerSPeak * (writesPerMessage.log + writesPerMessage.inbox + writesPerMessage.receipts) * a.replicationFactor;
  const messageLogBytesRetained = messageLogBytesPerDay * a.retentionDays;
  const cassandra = tierNeed(
    { writes: replicaWritesPerSPeak / a.cassandraWritesPerNodePerS, storage: messageLogBytesRetained / a.cassandraDiskBytesPerNode },
    a.headroom,
  );

  // Redis: per message a registry look-up per recipient user and the sender (for its other devices),
  // a membership read for group messages, a routed publish per live copy; per connection a presence
  // and a registry refresh each heartbeat; per session a register + presence set and their removal.
  const redisOpsPerMessage = recipientUsers + 1 + i.groupShare + recipientDevices * i.onlineShare;
  const opsPerSPeak = messagesPerSPeak * redisOpsPerMessage + heartbeatsPerS * 2 + sessionsPerS * 4;
  const memoryBytes = concurrent * a.redisBytesPerConnection;
  const redis = tierNeed({ ops: opsPerSPeak / a.redisOpsPerShardPerS, memory: memoryBytes / a.redisMemoryBytesPerShard }, a.headroom);

  return {
    scenario: scenario.name,
    inputs: i,
    assumptions: { ...a },
    traffic: {
      messagesPerSAverage,
      messagesPerSPeak,
      recipientUsersPerMessage: recipientUsers,
      recipientDevicesPerMessage: recipientDevices,
      fanoutCopiesPerSPeak,
      liveDeliveriesPerSPeak,
    },
    connections: { concurrent, sessionsPerS },
    storage: {
      textBytesPerDay,
      messageLogBytesPerDay,
      inboxBytesWrittenPerDay,
      mediaBytesPerDay,
      totalBytesWrittenPerDay: messageLogBytesPerDay + inboxBytesWrittenPerDay + mediaBytesPerDay,
      messageLogBytesRetained,
    },
    gateway: { ...gateway, framesPerSPeak },
    cassandra: { ...cassandra, replicaWritesPerSPeak, writesPerMessage },
    redis: { ...redis, opsPerSPeak, memoryBytes },
  };
}
