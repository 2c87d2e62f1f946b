import type { ServiceTier } from '../../system/adapters/virtual/service-tier.js';
import type { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import type { Workload } from '../workload/workload.js';
import type { SimWorld } from '../../system/worlds/simulated/sim-world.js';
import type { PlannedFault } from './fault-plan.js';

/** A fault's outcome for the summary (docs/summaries.md: faults [{kind, target, at_s, healed_s, recovered_s}]). */
export interface FaultRecord {
  kind: string;
  target: string;
  at_s: number;
  healed_s: number | null;
  recovered_s: number | null;
  random: boolean;
}

/** Raised when a scenario asks for something this world cannot inject (exit 3). */
export class FaultNotSupportedError extends Error {
  readonly code = 'SIM_FAULT_UNSUPPORTED';
}

interface ActiveFault {
  planned: PlannedFault;
  record: FaultRecord;
  heal: () => void;
}

/**
 * Applies planned faults to the simulated world at their times and heals them after their
 * duration (or at the start of the liveness phase, whichever comes first). Separate from the
 * checker: it knows nothing about invariants.
 */
export class FaultInjector {
  readonly records: FaultRecord[] = [];
  private readonly active = new Set<ActiveFault>();

  constructor(
    private readonly time: Scheduler,
    private readonly world: SimWorld,
    private readonly workload: Workload,
    private readonly startMs: number,
  ) {}

  /** Refuses unknown targets before the run starts. */
  validate(faults: PlannedFault[]): void {
    for (const f of faults) this.resolve(f);
  }

  schedule(faults: PlannedFault[]): void {
    for (const f of faults) {
      this.time.scheduleAt(this.startMs + f.atS * 1000, () => {
        if (!this.closed) this.begin(f);
      });
    }
  }

  /** No fault starts from now on (an interrupted run's liveness phase must not meet a fault planned for later). */
  close(): void {
    this.closed = true;
  }
  private closed = false;

  private nowS(): number {
    return Math.round(((this.time.nowMs() - this.startMs) / 1000) * 100) / 100;
  }

  private begin(f: PlannedFault): void {
    const record: FaultRecord = { kind: f.kind, target: f.target, at_s: this.nowS(), healed_s: null, recovered_s: null, random: f.random };
    this.records.push(record);
    const heal = this.resolve(f)();
    const entry: ActiveFault = { planned: f, record, heal };
    this.active.add(entry);
    if (f.durationS > 0 || f.kind !== 'gateway_crash') {
      this.time.schedule(f.durationS * 1000, () => this.end(entry));
    }
  }

  private end(entry: ActiveFault): void {
    if (!this.active.has(entry)) return;
    this.active.delete(entry);
    entry.heal();
    entry.record.healed_s = this.nowS();
  }

  /** Heals everything still active (the liveness phase starts). */
  healAll(): void {
    for (const entry of [...this.active]) this.end(entry);
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Marks recovery: the first moment after healing when the caller judged the system back to normal. */
  markRecovered(isRecovered: (record: FaultRecord) => boolean): void {
    for (const r of this.records) if (r.healed_s !== null && r.recovered_s === null && isRecovered(r)) r.recovered_s = this.nowS();
  }

  /**
   * How many active faults hold each switch (a gateway down, a tier down or partitioned, a
   * gateway's clients cut off). Faults of a schedule may overlap on one target (two Cassandra
   * outages, a crash of gateway-1 during a crash of every gateway): the switch turns on with the
   * first and off with the last, so healing one does not end the other early.
   */
  private readonly holds = new Map<string, number>();
  /** Extra latency of every active network_latency fault, per tier: overlapping ones add up. */
  private readonly tierLatencyMs = new Map<string, number>();
  /** The shares of the active slow_consumer faults. */
  private readonly slowShares: number[] = [];

  private hold(key: string, on: () => void, off: () => void): () => void {
    const count = this.holds.get(key) ?? 0;
    this.holds.set(key, count + 1);
    if (count === 0) on();
    return () => {
      const left = (this.holds.get(key) ?? 1) - 1;
      if (left > 0) {
        this.holds.set(key, left);
        return;
      }
      this.holds.delete(key);
      off();
    };
  }

  /** Returns a function that starts the fault and returns its healer. */
  private resolve(f: PlannedFault): () => () => void {
    const { world, workload } = this;
    // A reset after kill -9 reaches the client after one link delay.
    const linkNotice = () => workload.handshakeMs() / 2;
    switch (f.kind) {
      case 'gateway_crash': {
        const gws = this.gatewaysOf(f.target);
        return () => {
          const releases = gws.map((g) =>
            this.hold(
              `crash:${g.nodeId}`,
              () => g.crash(linkNotice),
              () => g.restart(),
            ),
          );
          return () => {
            for (const release of releases) release();
          };
        };
      }
      case 'gateway_pause': {
        const gws = this.gatewaysOf(f.target);
        return () => {
          const until = this.time.nowMs() + f.durationS * 1000;
          for (const g of gws) g.cpu.pauseUntil(until);
          return () => undefined;
        };
      }
      case 'cassandra_outage': {
        const name = f.target === 'cassandra' ? 'cassandra' : f.target;
        const tier = this.tierOf(name);
        return () =>
          this.hold(
            `down:${name}`,
            () => tier.setDown(true),
            () => tier.setDown(false),
          );
      }
      case 'redis_restart': {
        const tier = this.tierOf('redis');
        return () => {
          // Redis loses its state at every restart, also one that begins while it is already down.
          if ((this.holds.get('down:redis') ?? 0) > 0) world.backends.loseRedisState();
          return this.hold(
            'down:redis',
            () => {
              tier.setDown(true);
              world.backends.loseRedisState();
            },
            () => {
              tier.setDown(false);
              world.backends.redisRestartedAtMs = this.time.nowMs();
              // Each gateway's Redis client reconnects and the gateway re-announces its sessions
              // (production-world.ts: RedisAdapters.onReconnected → GatewayNode.reannounceSessions).
              // Its subscriber reconnects too, and the presence store re-reads every watched user,
              // holding back "offline" while the sessions are put back (redis-adapters.ts:
              // hub.onReconnect → storeRecovered).
              for (const g of world.gateways) {
                if (!g.isAlive) continue;
                void g.node.reannounceSessions();
                g.presenceWatches.storeRecovered(g.core.deps.limits.heartbeatIntervalMs);
              }
            },
          );
        };
      }
      case 'network_latency': {
        const extra = f.extraLatencyMs ?? 0;
        if (f.target === 'clients' || f.target.startsWith('gateway')) {
          return () => {
            workload.clientExtraLatencyMs += extra;
            return () => (workload.clientExtraLatencyMs -= extra);
          };
        }
        const tier = this.tierOf(f.target);
        const add = (ms: number) => {
          const total = (this.tierLatencyMs.get(f.target) ?? 0) + ms;
          this.tierLatencyMs.set(f.target, total);
          tier.setExtraLatencyMs(total);
        };
        return () => {
          add(extra);
          return () => add(-extra);
        };
      }
      case 'network_partition': {
        if (f.target === 'clients' || f.target.startsWith('gateway')) {
          const gws = f.target === 'clients' ? world.gateways : this.gatewaysOf(f.target);
          return () => {
            const releases = gws.map((g) =>
              this.hold(
                `cut-off:${g.nodeId}`,
                () => {
                  workload.blockedGateways.add(g.nodeId);
                  // Connections break only when heartbeats stop answering: both ends notice late.
                  g.cutClients(() => 30_000);
                },
                () => workload.blockedGateways.delete(g.nodeId),
              ),
            );
            return () => {
              for (const release of releases) release();
            };
          };
        }
        const tier = this.tierOf(f.target);
        return () =>
          this.hold(
            `partition:${f.target}`,
            () => tier.setPartitioned(true),
            () => tier.setPartitioned(false),
          );
      }
      case 'slow_consumer': {
        const share = f.share ?? 0.01;
        return () => {
          this.slowShares.push(share);
          workload.slowShare = Math.max(...this.slowShares);
          workload.slowDown(share);
          return () => {
            this.slowShares.splice(this.slowShares.indexOf(share), 1);
            if (this.slowShares.length > 0) {
              workload.slowShare = Math.max(...this.slowShares);
              return;
            }
            // Every slow device reads normally again, also those that came online during the fault.
            workload.slowShare = 0;
            workload.healSlowReaders();
          };
        };
      }
    }
  }

  private gatewaysOf(target: string) {
    if (target === 'gateways') return this.world.gateways;
    const g = this.world.gateway(target);
    if (!g) throw new FaultNotSupportedError(`fault target ${target} is not a gateway of this topology`);
    return [g];
  }

  private tierOf(target: string): ServiceTier {
    const tiers = this.world.tiers as unknown as Record<string, ServiceTier>;
    const tier = tiers[target];
    if (!tier) throw new FaultNotSupportedError(`fault target ${target} is not a tier the simulator models (cassandra, redis, s3, push)`);
    return tier;
  }
}
