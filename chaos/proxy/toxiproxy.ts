/**
 * A private toxiproxy server for one drill (its own port, its own process) driven through its
 * HTTP API. Links are toxiproxy "proxies"; faults are toxics (latency, bandwidth, timeout,
 * reset_peer) or a disabled proxy (refuse).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { ChaosErrorCodes } from '../error-codes.js';
import { freePort, waitForPort } from '../topology/ports.js';
import type { FaultProxy, LinkAddress, LinkName, NetworkToxics, PartitionMode } from './fault-proxy.js';
import { ensureToxiproxy } from './toxiproxy-install.js';
import { ToolError } from '../../cli/tool-error.js';

const HOST = '127.0.0.1';
const API_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 10_000;

interface ToxicSpec {
  name: string;
  type: 'latency' | 'bandwidth' | 'timeout' | 'reset_peer';
  stream: 'upstream' | 'downstream';
  attributes: Record<string, number>;
}

/** The JSON bodies sent to the toxiproxy API for each fault; pure, so tests can read them. */
export function toxicsFor(toxics: NetworkToxics): ToxicSpec[] {
  const specs: ToxicSpec[] = [];
  if (toxics.latencyMs !== undefined) {
    specs.push({
      name: 'latency',
      type: 'latency',
      stream: 'upstream',
      attributes: { latency: toxics.latencyMs, jitter: toxics.jitterMs ?? 0 },
    });
  }
  if (toxics.bandwidthKBps !== undefined) {
    for (const stream of ['upstream', 'downstream'] as const) {
      specs.push({ name: `bandwidth-${stream}`, type: 'bandwidth', stream, attributes: { rate: toxics.bandwidthKBps } });
    }
  }
  return specs;
}

export function partitionToxics(mode: Exclude<PartitionMode, 'refuse'>): ToxicSpec[] {
  return (['upstream', 'downstream'] as const).map((stream) =>
    mode === 'blackhole'
      ? { name: `blackhole-${stream}`, type: 'timeout' as const, stream, attributes: { timeout: 0 } }
      : { name: `reset-${stream}`, type: 'reset_peer' as const, stream, attributes: { timeout: 0 } },
  );
}

export class Toxiproxy implements FaultProxy {
  private readonly links = new Set<LinkName>();

  private constructor(
    private readonly child: ChildProcess,
    readonly apiUrl: string,
  ) {}

  /** Builds toxiproxy if needed and starts a private server; its log goes to `logFile`. */
  static async start(options: { logFile: string; log?: (line: string) => void }): Promise<Toxiproxy> {
    const binary = await ensureToxiproxy(options.log);
    const port = await freePort();
    const out = fs.openSync(options.logFile, 'a');
    const child = spawn(binary, ['-host', HOST, '-port', String(port)], {
      stdio: ['ignore', out, out],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    fs.closeSync(out);
    child.on('error', () => {});
    try {
      await waitForPort(port, START_TIMEOUT_MS);
    } catch (error) {
      child.kill('SIGKILL');
      throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, `toxiproxy did not listen on ${port} (log: ${options.logFile})`, {
        cause: error,
      });
    }
    return new Toxiproxy(child, `http://${HOST}:${port}`);
  }

  async addLink(name: LinkName, upstream: LinkAddress): Promise<LinkAddress> {
    // An explicit free port (not :0) so the address stays the same when the link is re-enabled.
    const port = await freePort();
    const created = (await this.api('POST', '/proxies', {
      name,
      listen: `${HOST}:${port}`,
      upstream: `${upstream.host}:${upstream.port}`,
      enabled: true,
    })) as {
      listen: string;
    };
    this.links.add(name);
    const listenPort = Number(created.listen.slice(created.listen.lastIndexOf(':') + 1));
    return { host: HOST, port: listenPort };
  }

  async degrade(name: LinkName, toxics: NetworkToxics): Promise<void> {
    for (const spec of toxicsFor(toxics)) await this.api('POST', `/proxies/${name}/toxics`, { ...spec, toxicity: 1 });
  }

  async partition(name: LinkName, mode: PartitionMode): Promise<void> {
    if (mode === 'refuse') {
      await this.api('POST', `/proxies/${name}`, { enabled: false });
      return;
    }
    for (const spec of partitionToxics(mode)) await this.api('POST', `/proxies/${name}/toxics`, { ...spec, toxicity: 1 });
  }

  async heal(name: LinkName, options: { dropConnections?: boolean } = {}): Promise<void> {
    const toxics = (await this.api('GET', `/proxies/${name}/toxics`)) as Array<{ name: string }>;
    for (const toxic of toxics) await this.api('DELETE', `/proxies/${name}/toxics/${toxic.name}`);
    if (options.dropConnections) await this.api('POST', `/proxies/${name}`, { enabled: false });
    await this.api('POST', `/proxies/${name}`, { enabled: true });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
      setTimeout(() => this.child.kill('SIGKILL'), 3_000).unref();
    });
  }

  private async api(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, `toxiproxy ${method} ${path} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok)
      throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, `toxiproxy ${method} ${path} answered ${response.status}: ${text.trim()}`);
    return text === '' ? undefined : JSON.parse(text);
  }
}
