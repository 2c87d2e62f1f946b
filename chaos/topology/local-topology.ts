import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../infra/local/config.js';
import { ensureServices, serviceEnv } from '../../infra/local/services-api.js';
import { Toxiproxy } from '../proxy/toxiproxy.js';
import type { FaultProxy, LinkAddress } from '../proxy/fault-proxy.js';
import { GatewayProcess } from './gateway-process.js';
import { freePort } from './ports.js';
import { PrivateBackend } from './private-backend.js';
import type { Topology } from './topology.js';
import type { Drill } from '../format/read-drill.js';

export interface LocalTopologyOptions {
  runId: string;
  gateways: number;
  /** shared: the running local Cassandra; private: one of the drill's own (really stopped in an outage). */
  cassandra: 'shared' | 'private';
  redis: 'shared' | 'private';
  limits: string[];
  /** production (default): gateways on Cassandra and Redis; embedded: one gateway process, all in memory. */
  world?: 'production' | 'embedded';
  /** Keyspace for the gateways; drills share one so its tables are created once. */
  keyspace?: string;
  log?: (line: string) => void;
}

/** The local topology a drill asks for (its world, gateways, backends and limits). */
export function startDrillTopology(drill: Drill, runId: string, log?: (line: string) => void): Promise<Topology> {
  const { world, cassandra, redis, limits } = drill.topology;
  return startLocalTopology({ runId, world, gateways: drill.gateways, cassandra, redis, limits, ...(log ? { log } : {}) });
}

/** Where a running backend listens, from a `host:port` contact point or a redis:// URL. */
function addressOf(value: string): LinkAddress {
  const hostPort = value.replace(/^redis:\/\//, '').split(',')[0]!;
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}

/**
 * The local real topology: N gateway processes on real Cassandra and Redis, with a toxiproxy
 * between the gateways and each backend so network faults (and proxy-made outages) can be
 * injected without touching the services others share.
 */
export async function startLocalTopology(options: LocalTopologyOptions): Promise<Topology> {
  const log = options.log ?? (() => {});
  const root = path.join(loadConfig().root, 'chaos', options.runId);
  fs.mkdirSync(root, { recursive: true });
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    fs.rmSync(root, { recursive: true, force: true });
  };
  const lines: string[] = [];
  if (options.world === 'embedded') return startEmbeddedGateway(options, root, closeAll, cleanups, lines);
  try {
    const sharedNames = [...(options.cassandra === 'shared' ? ['cassandra'] : []), ...(options.redis === 'shared' ? ['redis'] : [])];
    // Settings of the shared services (S3 among them); only the ones the drill uses are started.
    const shared = sharedNames.length > 0 ? await ensureServices(sharedNames, { log: (line) => log(`services: ${line}`) }) : serviceEnv();

    let cassandra: PrivateBackend | undefined;
    let redis: PrivateBackend | undefined;
    const [privateCassandra, privateRedis] = await Promise.all([
      options.cassandra === 'private' ? PrivateBackend.start('cassandra', root, log) : undefined,
      options.redis === 'private' ? PrivateBackend.start('redis', root, log) : undefined,
    ]);
    if (privateCassandra) {
      cassandra = privateCassandra;
      cleanups.push(() => privateCassandra.destroy());
    }
    if (privateRedis) {
      redis = privateRedis;
      cleanups.push(() => privateRedis.destroy());
    }
    const cassandraUpstream = cassandra ? { host: '127.0.0.1', port: cassandra.port } : addressOf(shared.CASSANDRA_CONTACT_POINTS);
    const redisUpstream = redis ? { host: '127.0.0.1', port: redis.port } : addressOf(shared.REDIS_URL);
    lines.push(
      `cassandra: ${cassandra ? 'private instance' : 'shared local service'} on ${cassandraUpstream.host}:${cassandraUpstream.port}`,
    );
    lines.push(`redis: ${redis ? 'private instance' : 'shared local service'} on ${redisUpstream.host}:${redisUpstream.port}`);

    const proxy: FaultProxy = await Toxiproxy.start({ logFile: path.join(root, 'toxiproxy.log'), log });
    cleanups.push(() => proxy.close());
    const cassandraLink = await proxy.addLink('cassandra', cassandraUpstream);
    const redisLink = await proxy.addLink('redis', redisUpstream);
    lines.push(
      `fault proxy (toxiproxy): cassandra via ${cassandraLink.host}:${cassandraLink.port}, redis via ${redisLink.host}:${redisLink.port}`,
    );

    const tokenSecret = randomBytes(24).toString('base64url');
    const ports: number[] = [];
    for (let i = 0; i < options.gateways; i++) ports.push(await freePort());
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...shared,
      CASSANDRA_CONTACT_POINTS: `${cassandraLink.host}:${cassandraLink.port}`,
      REDIS_URL: `redis://${redisLink.host}:${redisLink.port}`,
      CASSANDRA_KEYSPACE: options.keyspace ?? 'chat_chaos',
      REDIS_KEY_PREFIX: `chaos-${options.runId}:`,
      CHAT_TOKEN_SECRET: tokenSecret,
      CHAT_PEER_URLS: ports.map((p) => `ws://127.0.0.1:${p}/ws`).join(','),
    };
    log(`starting ${options.gateways} gateway(s)`);
    const gateways: GatewayProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
    });
    // The first gateway alone creates the keyspace and tables (slow on a fresh Cassandra); the
    // others then start together against the existing schema.
    const start = (index: number) =>
      GatewayProcess.start({ index, port: ports[index]!, env, limits: options.limits, walRoot: path.join(root, 'wal') });
    gateways.push(await start(0));
    const rest = await Promise.allSettled(ports.slice(1).map((_, i) => start(i + 1)));
    for (const r of rest) if (r.status === 'fulfilled') gateways.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    gateways.forEach((g, i) => lines.push(`gateway-${i}: process ${g.pid} on ${g.wsUrl}`));

    return {
      targets: gateways.map((g) => g.wsUrl),
      tokenSecret,
      gateways,
      cassandra,
      redis,
      proxy,
      describe: () => [...lines],
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The embedded world: one gateway process with every store in memory; no backends, no proxy. */
async function startEmbeddedGateway(
  options: LocalTopologyOptions,
  root: string,
  closeAll: () => Promise<void>,
  cleanups: Array<() => Promise<void>>,
  lines: string[],
): Promise<Topology> {
  try {
    const tokenSecret = randomBytes(24).toString('base64url');
    const port = await freePort();
    const gateway = await GatewayProcess.start({
      index: 0,
      port,
      env: { ...process.env, CHAT_TOKEN_SECRET: tokenSecret },
      limits: options.limits,
      walRoot: path.join(root, 'wal'),
      world: 'embedded',
    });
    cleanups.push(() => gateway.stop());
    lines.push(`gateway-0: embedded world (every store in memory), process ${gateway.pid} on ${gateway.wsUrl}`);
    return {
      targets: [gateway.wsUrl],
      tokenSecret,
      gateways: [gateway],
      cassandra: undefined,
      redis: undefined,
      proxy: undefined,
      describe: () => [...lines],
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
