import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type LocalConfig } from '../../infra/local/config.js';
import { stopServices, upServices } from '../../infra/local/services-api.js';
import { ChaosErrorCodes } from '../error-codes.js';
import { freePort } from './ports.js';
import type { BackendControl } from './topology.js';
import { ToolError } from '../../cli/tool-error.js';

/**
 * A Cassandra or Redis of the drill's own, started by the same code as the shared local services
 * (infra/local) but with its own folder and ports, so stopping it disturbs nobody else. Cassandra
 * jars come from the shared cache.
 */
export class PrivateBackend implements BackendControl {
  private constructor(
    readonly service: 'cassandra' | 'redis',
    readonly config: LocalConfig,
    readonly port: number,
  ) {}

  static async start(service: 'cassandra' | 'redis', root: string, log: (line: string) => void): Promise<PrivateBackend> {
    const shared = loadConfig();
    const ports: Record<string, string> =
      service === 'cassandra'
        ? {
            LOCAL_CASSANDRA_PORT: String(await freePort()),
            LOCAL_CASSANDRA_STORAGE_PORT: String(await freePort()),
            LOCAL_CASSANDRA_HEAP: process.env.LOCAL_CASSANDRA_HEAP || '768m',
          }
        : { LOCAL_REDIS_PORT: String(await freePort()) };
    fs.mkdirSync(root, { recursive: true });
    const config = loadConfig({ ...process.env, LOCAL_SERVICES_DIR: root, LOCAL_SERVICES_CACHE: shared.cacheDir, ...ports });
    const backend = new PrivateBackend(service, config, service === 'cassandra' ? config.cassandra.nativePort : config.redis.port);
    log(`private ${service}: starting on 127.0.0.1:${backend.port} (folder ${path.join(root, service)})`);
    await backend.start();
    return backend;
  }

  async start(): Promise<void> {
    try {
      await upServices([this.service], { config: this.config });
    } catch (error) {
      throw new ToolError(ChaosErrorCodes.TOPOLOGY_FAILED, `private ${this.service} did not start: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async stop(): Promise<void> {
    await stopServices([this.service], { config: this.config });
  }

  /** Stops it and deletes its folder (data and logs): a drill leaves nothing behind. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(path.join(this.config.root, this.service), { recursive: true, force: true });
  }
}
