import path from 'node:path';
import { startChildServer, type ChildServer } from '../../system/cluster/child-server.js';
import { ChaosError, ChaosErrorCodes } from '../errors.js';
import type { GatewayControl } from './topology.js';

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
}

/**
 * The command line of one gateway process: the same flags as system/cluster/cluster.ts uses, but
 * on a fixed port, because a restarted gateway must come back where its clients look for it.
 */
export function gatewayArgs(spec: Omit<GatewaySpec, 'env'>): string[] {
  const args = ['--world', 'production', '--port', String(spec.port), '--host', HOST, '--node-id', `gw-${spec.index + 1}`, '--dev-tokens', ...(process.env.CHAOS_GATEWAY_VERBOSE ? [] : ['--quiet'])];
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

/** One gateway child process that a drill may kill, restart, pause and resume. */
export class GatewayProcess implements GatewayControl {
  private paused = false;

  private constructor(
    private readonly spec: GatewaySpec,
    private server: ChildServer,
  ) {}

  static async start(spec: GatewaySpec): Promise<GatewayProcess> {
    return new GatewayProcess(spec, await GatewayProcess.spawn(spec));
  }

  private static async spawn(spec: GatewaySpec): Promise<ChildServer> {
    try {
      return await startChildServer(MAIN_SCRIPT, gatewayArgs(spec), { ...spec.env, CHAT_WAL_DIR: path.join(spec.walRoot, `gw-${spec.index + 1}`) });
    } catch (error) {
      throw new ChaosError(ChaosErrorCodes.TOPOLOGY_FAILED, `gateway-${spec.index} did not start on port ${spec.port}: ${(error as Error).message}`, { cause: error });
    }
  }

  get wsUrl(): string {
    return `ws://${HOST}:${this.spec.port}/ws`;
  }

  get pid(): number | undefined {
    return this.server.process.pid;
  }

  async kill(): Promise<void> {
    if (exited(this.server)) return;
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
    if (!exited(this.server)) throw new ChaosError(ChaosErrorCodes.INJECTION_FAILED, `gateway-${this.spec.index} is still running; kill it first`);
    const deadline = Date.now() + RESTART_GIVE_UP_MS;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        this.server = await GatewayProcess.spawn(this.spec);
        return;
      } catch (error) {
        if (Date.now() + RESTART_RETRY_MS >= deadline) {
          throw new ChaosError(ChaosErrorCodes.INJECTION_FAILED, `${(error as Error).message} (${attempts} attempt(s) in ${RESTART_GIVE_UP_MS / 1000} s)`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, RESTART_RETRY_MS));
      }
    }
  }

  async pause(): Promise<void> {
    if (exited(this.server)) throw new ChaosError(ChaosErrorCodes.INJECTION_FAILED, `gateway-${this.spec.index} is not running`);
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
