import type { Scenario } from '../../../scenarios/format/index.js';
import { LocalRouter } from '../../adapters/memory/local-router.js';
import { JwtTokenAuthority } from '../../adapters/jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings } from '../../adapters/jwt/jwt-settings.js';
import { heldTokenAuthority } from '../../adapters/virtual/held-token-authority.js';
import { SimClock } from '../../adapters/virtual/sim-clock.js';
import { BackgroundLoad } from '../../adapters/virtual/background-load.js';
import { ServiceTier, type ServiceTierModel } from '../../adapters/virtual/service-tier.js';
import { SimulatedBackends, type TierSet } from '../../adapters/virtual/simulated-stores.js';
import { SimulatedBus } from '../../adapters/virtual/simulated-router.js';
import { resolveLimits, type Limits } from '../../core/limits.js';
import type { Logger } from '../../ports/logger.js';
import type { MessageStore } from '../../ports/message-store.js';
import type { TokenAuthority } from '../../ports/token-authority.js';
import type { Metrics } from '../../ports/metrics.js';
import { ChatCore } from '../../services/chat-core.js';
import { exponential, sample } from '../../../scenarios/plan/index.js';
import type { Scheduler } from '../../adapters/virtual/scheduler.js';
import { streamOf } from '../../adapters/virtual/seed-streams.js';
import type { SeededRandom } from '../../adapters/virtual/seeded-random.js';
import { SimGateway, type FrameCosts } from './sim-gateway.js';

export interface SimWorldOptions {
  scenario: Scenario;
  seed: number;
  time: Scheduler;
  metrics: Metrics & { forGateway?(nodeId: string): Metrics };
  log: Logger;
  limits?: Partial<Limits>;
  /** Test seam: wraps the shared message store (e.g. a planted bug that drops a write). */
  wrapBackendMessages?: (store: MessageStore) => MessageStore;
  /**
   * A cell run's background: the other cells' load on the same servers, `copies` requests per
   * request of the cell (population ÷ cell − 1), at the cell's rate over `windowMs`
   * (BACKGROUND_WINDOW_MS when absent). Absent: none. See simulator/README.md, "Cells".
   */
  background?: { copies: number; windowMs?: number };
  /** WAL seam, per gateway (see GatewayDeps.wrapMessageStore). */
  wrapGatewayMessages?: (store: MessageStore, gateway: SimGateway) => MessageStore;
}

/** The simulator's own token secret (never used outside virtual time). */
const SIM_TOKEN_SECRET = 'simulator-token-secret-virtual-only';

/**
 * Real JWTs, as in production, signed and checked on virtual time; the scheduler holds their
 * WebCrypto work so that it never shows in the run (Scheduler.hold).
 */
function simTokenAuthority(options: SimWorldOptions): TokenAuthority {
  const jwt = new JwtTokenAuthority(
    sharedSecretTokenSettings(SIM_TOKEN_SECRET),
    new SimClock(options.time),
    resolveLimits(options.limits ?? {}),
  );
  return heldTokenAuthority(jwt, options.time);
}

/**
 * The simulated cluster: the scenario's gateways (real core on simulated ports), the shared
 * backends behind their tiers (Cassandra, Redis, S3, push) and the Redis bus between gateways.
 */
export class SimWorld {
  readonly backends: SimulatedBackends;
  readonly tiers: TierSet;
  readonly gateways: SimGateway[];
  readonly bus: SimulatedBus;
  /** One token authority for the cluster: every gateway accepts what any of them issued. */
  private readonly tokens: TokenAuthority;

  constructor(readonly options: SimWorldOptions) {
    this.tokens = simTokenAuthority(options);
    const { scenario, seed, time } = options;
    const sim = scenario.sim;
    const net = streamOf(seed, 'tiers');
    const tierModel = (name: string, t: Scenario['sim']['cassandra']): ServiceTierModel => {
      const model: ServiceTierModel = {
        name,
        oneWayLatencyMs: () => sample(t.latency_ms, net),
        serviceTimeMs: () => exponential(t.service_us / 1000, net),
        concurrency: t.concurrency,
        timeoutMs: t.timeout_ms,
        ...(t.drop_queued_after_ms !== null ? { dropQueuedAfterMs: t.drop_queued_after_ms } : {}),
      };
      const background = this.backgroundFor(name);
      if (background) model.background = { load: background.load, serviceTimeMs: () => exponential(t.service_us / 1000, background.draws) };
      return model;
    };
    this.tiers = {
      cassandra: new ServiceTier(time, tierModel('cassandra', sim.cassandra)),
      redis: new ServiceTier(time, tierModel('redis', sim.redis)),
      s3: new ServiceTier(time, tierModel('s3', sim.s3)),
      push: new ServiceTier(time, tierModel('push', sim.push)),
    };
    this.backends = new SimulatedBackends(new SimClock(time));
    if (options.wrapBackendMessages) {
      const wrapped = options.wrapBackendMessages(this.backends.messages);
      Object.defineProperty(this.backends, 'messages', { value: wrapped });
    }
    this.bus = new SimulatedBus(time, this.tiers.redis);
    const costs: FrameCosts = {
      frameInMs: (type) => (type === 'send' ? sim.gateway.send_frame_us : sim.gateway.frame_in_us) / 1000,
      frameOutMs: sim.gateway.frame_out_us / 1000,
    };
    this.gateways = [];
    for (let i = 0; i < scenario.topology.gateways; i++) {
      const cpuBackground = this.backgroundFor(`gateway-${i}`)?.load;
      this.gateways.push(
        new SimGateway(`gateway-${i}`, {
          time,
          seed,
          backends: this.backends,
          tiers: this.tiers,
          bus: this.bus,
          cores: sim.gateway.cores,
          costs,
          limits: options.limits ?? {},
          tokens: this.tokens,
          metrics: (nodeId) => options.metrics.forGateway?.(nodeId) ?? options.metrics,
          log: options.log,
          ...(cpuBackground ? { cpuBackground } : {}),
          ...(options.wrapGatewayMessages ? { wrapMessageStore: options.wrapGatewayMessages } : {}),
        }),
      );
    }
  }

  /** One server's background in a cell run (its own seeded stream), or undefined without one. */
  private backgroundFor(server: string): { load: BackgroundLoad; draws: SeededRandom } | undefined {
    const background = this.options.background;
    if (!background || background.copies <= 0) return undefined;
    const draws = streamOf(this.options.seed, `background:${server}`);
    return { load: new BackgroundLoad(background.copies, draws, background.windowMs), draws };
  }

  /**
   * The bulk-load seam: a ChatCore on the shared backends themselves, with no tier, no network
   * and no gateway CPU in between, so its store calls take no virtual time and no scheduler
   * events. The set-up uses it to load the population's initial state (device links, groups)
   * through the real services — the same records and inbox entries they would write over the
   * simulated network — before the run starts. Nobody is connected yet, so its router reaches no
   * one. The run itself never uses it: every request of the run goes through a gateway and its tiers.
   */
  bulkLoader(): ChatCore {
    const { options, backends } = this;
    const presence = backends.presence;
    return new ChatCore({
      clock: new SimClock(options.time),
      random: streamOf(options.seed, 'bulk-load'),
      limits: resolveLimits(options.limits ?? {}),
      nodeId: 'bulk-load',
      tokens: this.tokens,
      messages: backends.messages,
      conversations: backends.conversations,
      inbox: backends.inbox,
      receipts: backends.receipts,
      directory: backends.directory,
      registry: backends.registry,
      presence,
      blobs: backends.blobs,
      push: { send: async () => ({ outcome: 'sent' }) },
      router: new LocalRouter('bulk-load'),
      metrics: options.metrics,
      log: options.log,
    });
  }

  gateway(name: string): SimGateway | undefined {
    return this.gateways.find((g) => g.nodeId === name);
  }
}
