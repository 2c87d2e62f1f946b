/**
 * A Prometheus of a test's own: the local path's service (Debian's binary, installed if missing)
 * with its own folder, a free loopback port, the test's scrape targets and interval. The shared
 * one other suites use is left alone: its targets and the samples a test pushes stay apart. Its
 * remote-write receiver is on (prometheus.ts), so a test can push to `${url}/api/v1/write`.
 *
 * Works on both test-service paths: like the private Cassandra of the outage test, it is a local
 * process even when the shared services are containers.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO_ROOT, loadConfig } from './config.js';
import { ensureServices, stopServices } from './services-api.js';

export interface PrivatePrometheus {
  /** Base URL, e.g. http://127.0.0.1:40123 (query API under /api/v1, remote write at /api/v1/write). */
  url: string;
  stop(): Promise<void>;
}

export interface PrivatePrometheusOptions {
  /** Folder name under .services/ (a run suffix is added). */
  name: string;
  /** `host:port` targets scraped as job `app`. */
  scrapeTargets: readonly string[];
  /** Prometheus duration; short ones let a test see rates within seconds. Default 1s. */
  scrapeInterval?: string;
}

export async function startPrivatePrometheus(options: PrivatePrometheusOptions): Promise<PrivatePrometheus> {
  const shared = loadConfig();
  const root = path.join(REPO_ROOT, '.services', `${options.name}-${process.pid}-${Date.now().toString(36)}`);
  const config = loadConfig({
    ...process.env,
    LOCAL_SERVICES_DIR: root,
    LOCAL_SERVICES_CACHE: shared.cacheDir,
    LOCAL_PROMETHEUS_PORT: String(await freeLoopbackPort()),
    LOCAL_PROMETHEUS_SCRAPE_INTERVAL: options.scrapeInterval ?? '1s',
    PROMETHEUS_SCRAPE_TARGETS: options.scrapeTargets.join(','),
  });
  const env = await ensureServices(['prometheus'], { config });
  return {
    url: env.PROMETHEUS_URL,
    async stop() {
      await stopServices(['prometheus'], { config });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
