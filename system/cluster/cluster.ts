import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startChildServer, type ChildServer } from './child-server.js';

export interface ClusterOptions {
  nodes: number;
  world: 'embedded' | 'production';
  /** First port; node i listens on basePort + i. 0 = free ports (then peers learn URLs late). */
  basePort: number;
  host?: string;
  /** Environment for every node (backend variables); the launcher adds node id, secret and peers. */
  env: NodeJS.ProcessEnv;
  limits?: string[];
  /**
   * Folder for the nodes' write-ahead logs (node i uses <walRoot>/gw-i). It must outlive a node so a
   * restarted node replays its log. Default: .wal/cluster-<random> under the working directory.
   */
  walRoot?: string;
  /** Gateway entry script (default system/main.ts); benchmarks pass an instrumented one with the same arguments. */
  mainScript?: string;
}

export interface Cluster {
  nodes: ChildServer[];
  wsUrls: string[];
  httpUrls: string[];
  tokenSecret: string;
  /** Graceful stop of every node (SIGTERM: goaway, drain, close). */
  stop(): Promise<void>;
  /**
   * Starts node i again (same port, id, secret and write-ahead log folder) after it was killed or
   * stopped; `nodes[i]` is replaced. Used by fault tests and chaos drills.
   */
  restart(index: number): Promise<ChildServer>;
  walRoot: string;
}

const MAIN_SCRIPT = new URL('../main.ts', import.meta.url).pathname;

/**
 * Starts N gateway processes sharing one token secret and knowing each other's URLs (for goaway
 * hints). In the production world they share Cassandra and Redis, so a message reaches a device
 * on any node; in the embedded world each node is an island (useful only for tests of the launcher).
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const host = options.host ?? '127.0.0.1';
  const tokenSecret = options.env.CHAT_TOKEN_SECRET ?? randomBytes(24).toString('base64url');
  const ports = Array.from({ length: options.nodes }, (_, i) => (options.basePort === 0 ? 0 : options.basePort + i));
  const peerUrls = ports.filter((p) => p !== 0).map((p) => `ws://${host}:${p}/ws`);
  const walRoot = path.resolve(options.walRoot ?? path.join('.wal', `cluster-${randomBytes(4).toString('hex')}`));
  const nodes: ChildServer[] = [];
  const launches: Array<{ args: string[]; env: NodeJS.ProcessEnv }> = [];
  const mainScript = options.mainScript ?? MAIN_SCRIPT;
  try {
    for (const [i, port] of ports.entries()) {
      const nodeId = `gw-${i + 1}`;
      const args = ['--world', options.world, '--port', String(port), '--host', host, '--node-id', nodeId, '--dev-tokens', '--quiet'];
      for (const limit of options.limits ?? []) args.push('--limit', limit);
      const env = {
        ...options.env,
        CHAT_TOKEN_SECRET: tokenSecret,
        CHAT_PEER_URLS: peerUrls.join(','),
        CHAT_WAL_DIR: path.join(walRoot, nodeId),
      };
      launches.push({ args, env });
      nodes.push(await startChildServer(mainScript, args, env));
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return {
    nodes,
    wsUrls: nodes.map((n) => n.wsUrl),
    httpUrls: nodes.map((n) => n.httpUrl!),
    tokenSecret,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
    restart: async (index) => {
      const launch = launches[index];
      if (!launch) throw new Error(`no node ${index} in this cluster`);
      await nodes[index]!.stop();
      // A node that had a free port (basePort 0) comes back on the same one.
      const args = [...launch.args];
      const portAt = args.indexOf('--port') + 1;
      if (args[portAt] === '0') args[portAt] = new URL(nodes[index]!.httpUrl ?? nodes[index]!.wsUrl).port;
      const node = await startChildServer(mainScript, args, launch.env);
      nodes[index] = node;
      return node;
    },
    walRoot,
  };
}
