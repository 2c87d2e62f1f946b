/**
 * Two gateway nodes on real loopback ports sharing one set of in-memory stores, with a router that
 * hands frames to whichever node holds the connection: the smallest multi-node deployment, for the
 * graceful-shutdown test (node A's `goaway` points clients at node B).
 */
import { JwtTokenAuthority } from '../system/adapters/jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings } from '../system/adapters/jwt/jwt-settings.js';
import { EmbeddedBlobStore } from '../system/adapters/memory/embedded-blob-store.js';
import { LocalRouter } from '../system/adapters/memory/local-router.js';
import { RecordingPushSender } from '../system/adapters/memory/recording-push-sender.js';
import { cryptoRandom } from '../system/adapters/node/crypto-random.js';
import { systemClock } from '../system/adapters/node/system-clock.js';
import { resolveLimits, type Limits } from '../system/core/limits.js';
import { GatewayNode } from '../system/gateway/gateway-node.js';
import { silentLogger } from '../system/ports/logger.js';
import { noopMetrics } from '../system/ports/metrics.js';
import type { Router } from '../system/ports/router.js';
import { startServer, type RunningServer } from '../system/server.js';
import { ChatCore } from '../system/services/chat-core.js';
import { EMBEDDED_DEV_SECRET, createMemoryStores } from '../system/worlds/embedded-world.js';

export interface ClusterNode {
  nodeId: string;
  node: GatewayNode;
  server: RunningServer;
}

export interface Cluster {
  a: ClusterNode;
  b: ClusterNode;
  /** A token valid on both nodes (they share the token authority and the directory). */
  token(userId: string, deviceId: string): Promise<string>;
  close(): Promise<void>;
}

/** Node B starts first so that node A can name it in its `goaway` URLs. */
export async function startTwoNodeCluster(limitOverrides: Partial<Limits> = {}): Promise<Cluster> {
  const clock = systemClock;
  const limits = resolveLimits(limitOverrides);
  const tokens = new JwtTokenAuthority(sharedSecretTokenSettings(EMBEDDED_DEV_SECRET), clock, limits);
  const stores = createMemoryStores(clock);
  const blobs = new EmbeddedBlobStore({ secret: EMBEDDED_DEV_SECRET, clock });
  const push = new RecordingPushSender();
  const locals = new Map<string, LocalRouter>();
  // The "bus": a frame for a route goes to the node the route names.
  const router: Router = {
    deliver: async (route, frame) => {
      await locals.get(route.nodeId)?.deliver(route, frame);
    },
  };

  const start = async (nodeId: string, peerUrls?: string[]): Promise<ClusterNode> => {
    const local = new LocalRouter(nodeId);
    locals.set(nodeId, local);
    const core = new ChatCore({
      clock,
      random: cryptoRandom,
      limits,
      nodeId,
      tokens,
      ...stores,
      router,
      blobs,
      push,
      metrics: noopMetrics,
      log: silentLogger,
    });
    const node = new GatewayNode(core, local, peerUrls ? { peerUrls } : {});
    const server = await startServer({ node, host: '127.0.0.1', port: 0 });
    return { nodeId, node, server };
  };

  const b = await start('node-b');
  const a = await start('node-a', [b.server.wsUrl]);
  return {
    a,
    b,
    token: async (userId, deviceId) => (await a.node.core.auth.issueToken({ userId, deviceId })).token,
    close: async () => {
      await Promise.all([a.server.close(), b.server.close()]);
    },
  };
}
