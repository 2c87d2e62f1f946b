import path from 'node:path';
import { readFileSync } from 'node:fs';
import { startChildServer, type ChildServer } from '../../system/cluster/child-server.js';
import { ChaosErrorCodes } from '../error-codes.js';
import type { GatewayControl } from './topology.js';
import { ToolError } from '../../cli/tool-error.js';

const MAIN_SCRIPT = new URL('../../system/main.ts', import.meta.url).pathname;
const HOST = '127.0.0.1';
/** A restart that fails is tried again after this long … */
export const RESTART_RETRY_MS = 2_000;
/** … until this long after the first attempt. */
export const RESTART_GIVE_UP_MS = 120_000;

export interface GatewaySpec {
  index: number;
  port: number;
  env: NodeJS.ProcessEnv;
  /**
   * Folder of the gateways' write-ahead logs (gateway i uses <walRoot>/gw-<i+1>): private to the
   * drill, and the same across a restart so a killed gateway replays what it had logged.
   */
  walRoot: string;
  limits: string[];
  /** production (default) or embedded: everything in memory, one process. */
  world?: 'production' | 'embedded';
}

/**
 * The command line of one gateway process: the same flags as system/cluster/cluster.ts uses, but
 * on a fixed port, because a restarted gateway must come back where its clients look for it.
 */
export function gatewayArgs(spec: Omit<GatewaySpec, 'env'>): string[] {
  const args = [
    '--world',
    spec.world ?? 'production',
    '--port',
    String(spec.port),
    '--host',
    HOST,
    '--node-id',
    `gw-${spec.index + 1}`,
    '--dev-tokens',
    ...(process.env.CHAOS_GATEWAY_VERBOSE ? [] : ['--quiet']),
  ];
  for (const limit of spec.limits) args.push('--limit', limit);
  return args;
}

function exited(server: ChildServer): boolean {
  return server.process.exitCode !== null || server.process.signalCode !== null;
}

function waitForExit(server: ChildServer): Promise<void> {
  return new Promise((resolve) => {
    if (exited(server)) return resolve();
    server.process.once('exit', () => resolve());
  });
}

/** A process's peak resident set from /proc (Linux); undefined where there is none. */
export function peakRssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One gateway child process that a drill may kill, restart, pause and resume. */
export class GatewayProcess implements GatewayControl {
  private paused = false;
  /** The highest peak resident set of the earlier processes of this gateway (before kills). */
  private earlierPeakRssBytes = 0;

  private constructor(
    private readonly spec: GatewaySpec,
    private server: ChildServer,
  ) {}

  static async start(spec: GatewaySpec): Promise<GatewayProcess> {
    return new GatewayProcess(spec, await GatewayProcess.spawn(spec));
  }

  private static async spawn(spec: GatewaySpec): Promise<ChildServer> {
    try {
      return await startChildServer(MAIN_SCRIPT, gatewayArgs(spec), {
        ...spec.env,
        CHAT_WAL_DIR: path.join(spec.walRoot, `gw-${spec.index + 1}`),
      });
    } catch (error) {
      throw new ToolError(
        ChaosErrorCodes.TOPOLOGY_FAILED,
        `gateway-${spec.index} did not start on port ${spec.port}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  get wsUrl(): string {
    return `ws://${HOST}:${this.spec.port}/ws`;
  }

  get pid(): number | undefined {
    return this.server.process.pid;
  }

  /** The largest peak resident set (VmHWM) of this gateway's processes so far, every incarnation included. */
  peakRssBytes(): number | undefined {
    const current = exited(this.server) ? undefined : peakRssOf(this.server.process.pid);
    const peak = Math.max(this.earlierPeakRssBytes, current ?? 0);
    return peak > 0 ? peak : undefined;
  }

  async kill(): Promise<void> {
    if (exited(this.server)) return;
    this.earlierPeakRssBytes = Math.max(this.earlierPeakRssBytes, peakRssOf(this.server.process.pid) ?? 0);
    this.server.process.kill('SIGKILL');
    await waitForExit(this.server);
    this.paused = false;
  }

  /**
   * Starts the gateway again the way a supervisor would: a gateway that exits during start-up
   * (it cannot start while Cassandra is down, for one) is started again every
   * RESTART_RETRY_MS until RESTART_GIVE_UP_MS have passed.
   */
  async restart(): Promise<void> {
    if (!exited(this.server))
      throw new ToolError(ChaosErrorCodes.INJECTION_FAILED, `gateway-${this.spec.index} is still running; kill it first`);
    const deadline = Date.now() + RESTART_GIVE_UP_MS;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        this.server = await GatewayProcess.spawn(this.spec);
        return;
      } catch (error) {
        if (Date.now() + RESTART_RETRY_MS >= deadline) {
          throw new ToolError(
            ChaosErrorCodes.INJECTION_FAILED,
            `${(error as Error).message} (${attempts} attempt(s) in ${RESTART_GIVE_UP_MS / 1000} s)`,
            { cause: error },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, RESTART_RETRY_MS));
      }
    }
  }

  async pause(): Promise<void> {
    if (exited(this.server)) throw new ToolError(ChaosErrorCodes.INJECTION_FAILED, `gateway-${this.spec.index} is not running`);
    this.server.process.kill('SIGSTOP');
    this.paused = true;
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    if (!exited(this.server)) this.server.process.kill('SIGCONT');
    this.paused = false;
  }

  /** Graceful stop; a paused process is woken first or it could not handle SIGTERM. */
  async stop(): Promise<void> {
    await this.resume();
    await this.server.stop();
  }
}
