import { execFile } from 'node:child_process';
import { ChaosErrorCodes } from '../error-codes.js';
import type { BackendControl, GatewayControl, Topology } from './topology.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * The docker-compose staging (docker-compose.yml at the root): faults through the docker CLI on
 * the compose project's containers. UNTESTED here: the build machines have no Docker engine, so
 * only the command lines are tested (compose-topology.test.ts). Network faults need a proxy the
 * compose file does not have, so they are refused on this target.
 */

export interface ComposeOptions {
  /** `docker compose -p`; default: compose's own choice (the folder name). */
  project?: string | undefined;
  /** `docker compose -f`; default docker-compose.yml in the current folder. */
  file?: string | undefined;
  /** Gateway WebSocket URLs as published on this host; default ws://127.0.0.1:8081/ws, 8082, 8083. */
  targets?: string[] | undefined;
  /** The gateways' CHAT_TOKEN_SECRET; default the compose file's development secret. */
  tokenSecret?: string | undefined;
  gateways: number;
}

/** Runs one command line; resolves when it exits 0. */
export type CommandRunner = (argv: readonly string[]) => Promise<void>;

export const COMPOSE_COMMAND_TIMEOUT_MS = 5 * 60_000;

export const execRunner: CommandRunner = (argv) =>
  new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: COMPOSE_COMMAND_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new ToolError(ChaosErrorCodes.INJECTION_FAILED, `${argv.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });

/** `docker compose [-p P] [-f F] <args…>` */
export function composeCommand(options: Pick<ComposeOptions, 'project' | 'file'>, ...args: string[]): string[] {
  return ['docker', 'compose', ...(options.project ? ['-p', options.project] : []), ...(options.file ? ['-f', options.file] : []), ...args];
}

/** Drill gateway-<i> is compose service gateway-<i+1> (the compose file numbers from 1). */
export function composeGatewayService(index: number): string {
  return `gateway-${index + 1}`;
}

export function composeGatewayControl(options: ComposeOptions, index: number, run: CommandRunner): GatewayControl {
  const service = composeGatewayService(index);
  return {
    kill: () => run(composeCommand(options, 'kill', '-s', 'SIGKILL', service)),
    // `up -d --wait` returns once the container's health check passes.
    restart: () => run(composeCommand(options, 'up', '-d', '--wait', service)),
    pause: () => run(composeCommand(options, 'pause', service)),
    resume: () => run(composeCommand(options, 'unpause', service)),
  };
}

export function composeBackendControl(options: ComposeOptions, service: 'cassandra' | 'redis', run: CommandRunner): BackendControl {
  return {
    // Cassandra is stopped cleanly (SIGTERM, drain); Redis is killed, and with no persistence its data is gone.
    stop: () =>
      run(service === 'cassandra' ? composeCommand(options, 'stop', service) : composeCommand(options, 'kill', '-s', 'SIGKILL', service)),
    start: () => run(composeCommand(options, 'up', '-d', '--wait', service)),
  };
}

export function composeTopology(options: ComposeOptions, run: CommandRunner = execRunner): Topology {
  const targets = options.targets ?? Array.from({ length: options.gateways }, (_, i) => `ws://127.0.0.1:${8081 + i}/ws`);
  if (targets.length < options.gateways) {
    throw new ToolError(
      ChaosErrorCodes.BAD_ARGUMENTS,
      `the drill needs ${options.gateways} gateway(s) but ${targets.length} compose target URL(s) were given`,
    );
  }
  const where = composeCommand(options).slice(2).join(' ') || '(default project)';
  return {
    targets: targets.slice(0, options.gateways),
    tokenSecret: options.tokenSecret ?? 'compose-development-secret',
    gateways: targets.slice(0, options.gateways).map((_, i) => composeGatewayControl(options, i, run)),
    cassandra: composeBackendControl(options, 'cassandra', run),
    redis: composeBackendControl(options, 'redis', run),
    proxy: undefined,
    describe: () => [
      `docker compose ${where}: gateways ${targets.slice(0, options.gateways).join(', ')}; faults through the docker CLI (untested on machines without Docker)`,
    ],
    close: async () => {},
  };
}
