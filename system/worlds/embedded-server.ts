import { PromMetrics } from '../metrics/prom-metrics.js';
import { consoleLogger } from '../adapters/node/console-logger.js';
import { startServer, type RunningServer } from '../server.js';
import { buildEmbeddedWorld, type EmbeddedWorld, type EmbeddedWorldOptions } from './embedded-world.js';

export interface EmbeddedServerOptions extends EmbeddedWorldOptions {
  host?: string;
  port?: number;
  /** Export Prometheus metrics on /metrics (default true). */
  prometheus?: boolean;
  /** Log to stderr (default false: tests and the demo keep quiet). */
  verbose?: boolean;
}

export interface EmbeddedServer extends RunningServer {
  world: EmbeddedWorld;
  metrics?: PromMetrics;
}

/** The embedded system listening on a local port: what the load driver without `--target` (`npm start`) and the e2e tests run. */
export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const nodeId = options.nodeId ?? 'node-1';
  const metrics = options.prometheus === false ? undefined : new PromMetrics({ nodeId });
  const world = buildEmbeddedWorld({
    ...options,
    nodeId,
    ...(metrics ? { metrics } : {}),
    ...(options.verbose ? { log: consoleLogger(nodeId) } : {}),
  });
  await world.core.incarnation.start();
  const running = await startServer({
    node: world.node,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    devTokens: true,
    extraHandlers: [(req, res) => world.blobs.handleHttp(req, res)],
    onBaseUrl: (url) => world.blobs.setBaseUrl(url),
    ...(metrics ? { renderMetrics: () => metrics.render() } : {}),
  });
  return { ...running, world, ...(metrics ? { metrics } : {}) };
}
