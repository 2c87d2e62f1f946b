import { resolveLimits, type Limits } from '../../core/limits.js';
import type { BackgroundLoad } from '../../adapters/virtual/background-load.js';
import { SimClock } from '../../adapters/virtual/sim-clock.js';
import { MemoryWriteAheadLog } from '../../adapters/memory/memory-write-ahead-log.js';
import type { RereadingPresenceWatches } from '../../adapters/common/rereading-presence-watches.js';
import { simulatedPorts, type SimulatedBackends, type TierSet } from '../../adapters/virtual/simulated-stores.js';
import { SimulatedRouter, type SimulatedBus } from '../../adapters/virtual/simulated-router.js';
import { GatewayNode } from '../../gateway/gateway-node.js';
import type { Logger } from '../../ports/logger.js';
import type { MessageStore } from '../../ports/message-store.js';
import type { Metrics } from '../../ports/metrics.js';
import type { TokenAuthority } from '../../ports/token-authority.js';
import { ChatCore } from '../../services/chat-core.js';
import type { Scheduler } from '../../adapters/virtual/scheduler.js';
import { streamOf } from '../../adapters/virtual/seed-streams.js';
import { GatewayCpu } from './gateway-cpu.js';
import { SimConnection, type ClientEndpoint, type ClientLink } from './sim-connection.js';

export interface FrameCosts {
  /** CPU time of handling one inbound frame of a type (ms). */
  frameInMs(type: string): number;
  /** CPU time of encoding and writing one outbound frame (ms). */
  frameOutMs: number;
}

export interface GatewayDeps {
  time: Scheduler;
  seed: number;
  backends: SimulatedBackends;
  tiers: TierSet;
  bus: SimulatedBus;
  cores: number;
  costs: FrameCosts;
  limits: Partial<Limits>;
  /** The cluster's token authority (shared: a token from one gateway is good on every one). */
  tokens: TokenAuthority;
  metrics: (nodeId: string) => Metrics;
  log: Logger;
  /** In a cell run, the CPU work of the other cells' connections on this gateway. */
  cpuBackground?: BackgroundLoad;
  /**
   * Seam for the write-ahead log: wraps this gateway's message store (the lead's WAL decorator
   * logs accepted messages locally while Cassandra is out). Identity when absent.
   */
  wrapMessageStore?: (store: MessageStore, gateway: SimGateway) => MessageStore;
}

/**
 * One gateway process of the simulated cluster: the real ChatCore and GatewayNode on simulated
 * ports, a CPU queue, and its client connections. crash() is kill -9 (timers and answers of the
 * old process are gone, clients see their connections drop); restart() starts a new incarnation
 * with the same node id on the same backends.
 */
export class SimGateway {
  cpu: GatewayCpu;
  core!: ChatCore;
  node!: GatewayNode;
  router!: SimulatedRouter;
  private clock!: SimClock;
  incarnation = 0;
  private readonly connections = new Set<SimConnection>();
  framesIn = 0;
  framesOut = 0;
  private up = false;
  /** This incarnation's presence watches (re-read when Redis is back). */
  presenceWatches!: RereadingPresenceWatches;
  /**
   * The node-local write-ahead log (production: a file on the gateway's disk). It outlives the
   * process: a restarted incarnation replays what the crashed one left. Appends are taken as
   * instant (the file log's group-committed fsync is not modelled).
   */
  readonly wal = new MemoryWriteAheadLog();

  constructor(
    readonly nodeId: string,
    readonly deps: GatewayDeps,
  ) {
    this.cpu = new GatewayCpu(deps.time, deps.cores, deps.cpuBackground);
    this.start();
  }

  get costs(): FrameCosts {
    return this.deps.costs;
  }

  get isAlive(): boolean {
    return this.up;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private start(): void {
    const { deps } = this;
    this.incarnation++;
    const clock = new SimClock(deps.time);
    this.clock = clock;
    this.up = true;
    this.cpu.reset();
    const alive = () => clock.isAlive;
    const ports = simulatedPorts(deps.backends, deps.tiers, {
      alive,
      runOnLoop: (job) => this.cpu.run(0, () => alive() && job()),
      clock,
      log: deps.log,
    });
    this.presenceWatches = ports.presenceWatches;
    const messages = deps.wrapMessageStore ? deps.wrapMessageStore(ports.messages, this) : ports.messages;
    this.router = new SimulatedRouter(this.nodeId, deps.bus, alive);
    this.core = new ChatCore({
      clock,
      random: streamOf(deps.seed, `core:${this.nodeId}:${this.incarnation}`),
      limits: resolveLimits(deps.limits),
      nodeId: this.nodeId,
      tokens: deps.tokens,
      ...ports,
      messages,
      router: this.router,
      metrics: deps.metrics(this.nodeId),
      log: deps.log,
      wal: this.wal,
    });
    this.node = new GatewayNode(this.core, this.router);
    // Started soon after a Redis restart: as a production gateway learns from Redis's uptime.
    const restartedAtMs = deps.backends.redisRestartedAtMs;
    const holdMs = this.core.deps.limits.heartbeatIntervalMs - (deps.time.nowMs() - (restartedAtMs ?? -Infinity));
    if (holdMs > 0) this.presenceWatches.storeRecovered(holdMs);
    // The stored incarnation (the first start draws it from this core's seeded stream).
    this.core.incarnation.start().catch(() => undefined);
  }

  resetStats(): void {
    this.framesIn = 0;
    this.framesOut = 0;
    this.cpu.busyMs = 0;
    this.cpu.jobs = 0;
    this.cpu.waitPeakMs = 0;
    this.cpu.takeIntervalWaitPeakMs();
  }

  /** Opens a connection for a client; undefined when the process is down. */
  open(link: ClientLink, client: ClientEndpoint): SimConnection | undefined {
    if (!this.up) return undefined;
    const connection = new SimConnection(this.node.nextConnectionId(), this, this.deps.time, link, client);
    connection.session = this.node.openSession(connection);
    this.connections.add(connection);
    return connection;
  }

  connectionGone(connection: SimConnection): void {
    this.connections.delete(connection);
  }

  /** kill -9: clients see their connections reset after `noticeMs`. */
  crash(noticeMs: () => number): void {
    if (!this.up) return;
    this.up = false;
    this.clock.kill();
    for (const c of [...this.connections]) c.cut(noticeMs(), false);
    this.connections.clear();
  }

  restart(): void {
    if (this.up) return;
    this.start();
  }

  /** Cuts every client connection (a partition between clients and this gateway). */
  cutClients(noticeMs: () => number): void {
    for (const c of [...this.connections]) c.cut(noticeMs(), true);
  }
}
