import { ChaosErrorCodes } from '../error-codes.js';
import type { ResolvedFault } from '../format/read-drill.js';
import type { LinkName } from '../proxy/fault-proxy.js';
import type { Topology } from '../topology/topology.js';
import { ToolError } from '../../cli/tool-error.js';

/** How one fault is carried out on one topology: inject now, heal later. */
export interface FaultAction {
  /** One line saying how it is injected, for the report ("SIGKILL of process 123", …). */
  how: string;
  inject(): Promise<void>;
  /** Undoes the fault; undefined when it is never healed (a crash that stays down). */
  heal: (() => Promise<void>) | undefined;
  /**
   * Where recovery is measured from: the heal, or the injection for a crash (clients fail over to
   * other gateways at once; the restart is not what brings service back).
   */
  recoveryFrom: 'injected' | 'healed';
}

function gatewayIndex(target: string): number {
  return Number(/^gateway-(\d+)$/.exec(target)![1]);
}

function notInjectable(fault: ResolvedFault, why: string): ToolError {
  return new ToolError(ChaosErrorCodes.FAULT_NOT_INJECTABLE, `${fault.kind} on ${fault.target} cannot be injected here: ${why}`);
}

/** Maps a fault of the shared vocabulary onto the topology's controls; throws FAULT_NOT_INJECTABLE when it has none. */
export function faultAction(fault: ResolvedFault, topology: Topology): FaultAction {
  switch (fault.kind) {
    case 'gateway_crash': {
      const gateway = topology.gateways[gatewayIndex(fault.target)];
      if (!gateway) throw notInjectable(fault, `the topology has ${topology.gateways.length} gateway(s)`);
      return {
        how: `kill -9 of ${fault.target}${fault.duration_s > 0 ? `, started again after ${fault.duration_s} s` : ', left down'}`,
        inject: () => gateway.kill(),
        heal: fault.duration_s > 0 ? () => gateway.restart() : undefined,
        recoveryFrom: 'injected',
      };
    }
    case 'gateway_pause': {
      const gateway = topology.gateways[gatewayIndex(fault.target)];
      if (!gateway) throw notInjectable(fault, `the topology has ${topology.gateways.length} gateway(s)`);
      return {
        how: `SIGSTOP of ${fault.target}, SIGCONT after ${fault.duration_s} s`,
        inject: () => gateway.pause(),
        heal: () => gateway.resume(),
        recoveryFrom: 'healed',
      };
    }
    case 'cassandra_outage': {
      const cassandra = topology.cassandra;
      if (cassandra) {
        return {
          how: 'Cassandra process stopped, started again after duration_s (healed when healthy)',
          inject: () => cassandra.stop(),
          heal: () => cassandra.start(),
          recoveryFrom: 'healed',
        };
      }
      const proxy = topology.proxy;
      if (!proxy) throw notInjectable(fault, 'no private Cassandra and no fault proxy');
      return {
        how: 'fault proxy refuses Cassandra connections (existing ones closed), as if the process were down',
        inject: () => proxy.partition('cassandra', 'refuse'),
        heal: () => proxy.heal('cassandra'),
        recoveryFrom: 'healed',
      };
    }
    case 'redis_restart': {
      const redis = topology.redis;
      if (!redis) throw notInjectable(fault, 'Redis is shared (topology.redis: private restarts a Redis of the drill’s own)');
      return {
        how: 'Redis process stopped (its data is lost: no persistence) and started again after duration_s',
        inject: () => redis.stop(),
        heal: () => redis.start(),
        recoveryFrom: 'healed',
      };
    }
    case 'network_latency': {
      const proxy = topology.proxy;
      if (!proxy) throw notInjectable(fault, 'this topology has no fault proxy');
      const link = fault.target as LinkName;
      const extras = [
        fault.jitter_ms ? `± ${fault.jitter_ms} ms jitter` : '',
        fault.bandwidth_kbps ? `capped at ${fault.bandwidth_kbps} KB/s` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return {
        how: `fault proxy adds ${fault.extra_latency_ms} ms to each round trip to ${link}${extras ? ` (${extras})` : ''}`,
        inject: () =>
          proxy.degrade(link, {
            latencyMs: fault.extra_latency_ms!,
            ...(fault.jitter_ms ? { jitterMs: fault.jitter_ms } : {}),
            ...(fault.bandwidth_kbps ? { bandwidthKBps: fault.bandwidth_kbps } : {}),
          }),
        heal: () => proxy.heal(link),
        recoveryFrom: 'healed',
      };
    }
    case 'network_partition': {
      const proxy = topology.proxy;
      if (!proxy) throw notInjectable(fault, 'this topology has no fault proxy');
      const link = fault.target as LinkName;
      const mode = fault.mode ?? 'blackhole';
      return {
        how: `fault proxy cuts the link to ${link} (${mode})`,
        inject: () => proxy.partition(link, mode),
        // Bytes dropped by a blackhole leave the surviving connections' streams unusable: close them.
        heal: () => proxy.heal(link, { dropConnections: mode === 'blackhole' }),
        recoveryFrom: 'healed',
      };
    }
    case 'slow_consumer':
      throw notInjectable(fault, 'a client behaviour, run by the load driver, not a drill');
  }
}
