/**
 * Composition root of the live system: reads configuration (arguments and environment — the only
 * place that does) and serves one gateway node, in the embedded world (default) or the
 * production world (Cassandra, Redis, S3, FCM).
 *
 * Options and variables: `npm run serve -- --help` (the declaration below).
 */
import type { TokenSettings } from './adapters/jwt/jwt-settings.js';
import { tokenSettingsFromEnv } from './adapters/jwt/token-settings-from-env.js';
import { consoleLogger } from './adapters/node/console-logger.js';
import { parseLimitOverrides, type Limits } from './core/limits.js';
import { PromMetrics } from './metrics/prom-metrics.js';
import { startServer, type RunningServer } from './server.js';
import { startEmbeddedServer } from './worlds/embedded-server.js';
import { EMBEDDED_DEV_SECRET } from './worlds/embedded-world.js';
import { ConfigurationError, productionConfigFromEnv } from './worlds/production-config.js';
import { buildProductionWorld } from './worlds/production-world.js';
import { defineCommand, EXIT_COULD_NOT_RUN } from '../cli/command-spec.js';
import { runCommand } from '../cli/run-command.js';
import { ToolError } from '../cli/tool-error.js';

/** Stable codes of `npm run serve`'s failures (cli/README.md); each exits 3. */
const ServeErrorCodes = {
  BAD_ARGUMENTS: 'SERVE_BAD_ARGUMENTS',
  /** A bad CHAT_* variable or --limit: nothing was started. */
  BAD_CONFIGURATION: 'SERVE_BAD_CONFIGURATION',
  /** The world's backends or the listening socket could not be brought up. */
  START_FAILED: 'SERVE_START_FAILED',
} as const;

const command = defineCommand({
  name: 'serve',
  purpose: 'serves one gateway node: the embedded world (in-memory) or the production world (Cassandra, Redis, S3, FCM)',
  options: {
    world: {
      type: 'string',
      choices: ['embedded', 'production'],
      default: process.env.CHAT_WORLD ?? 'embedded',
      description: 'which world; env CHAT_WORLD',
    },
    port: {
      type: 'number',
      integer: true,
      min: 0,
      max: 65_535,
      default: Number(process.env.CHAT_PORT ?? 8080),
      description: 'listening port; 0 picks a free one; env CHAT_PORT',
    },
    host: {
      type: 'string',
      default: process.env.CHAT_HOST ?? '127.0.0.1',
      placeholder: 'ADDRESS',
      description: 'bind address; env CHAT_HOST',
    },
    'node-id': {
      type: 'string',
      default: process.env.CHAT_NODE_ID ?? 'node-1',
      placeholder: 'ID',
      description: "this gateway's id, unique in a cluster (env CHAT_NODE_ID)",
    },
    'dev-tokens': { type: 'boolean', description: 'serve POST /dev/token, for development and tests; env CHAT_DEV_TOKENS=1' },
    quiet: { type: 'boolean', description: 'print only the READY line' },
    limit: {
      type: 'string',
      multiple: true,
      placeholder: 'name=value',
      description: 'override a limit of system/core/limits.ts (also CHAT_LIMITS="name=value …")',
    },
  },
  exitCodes: [{ code: 0, meaning: 'stopped by SIGINT or SIGTERM after closing its connections' }, EXIT_COULD_NOT_RUN],
  badArgumentsCode: ServeErrorCodes.BAD_ARGUMENTS,
  notes: [
    'Token variables CHAT_TOKEN_* (JWT algorithm, keys, issuer, audience), CHAT_LOG=1, and the production variables: README.md, "Production variables".',
  ],
});

await runCommand(command, async ({ values }) => {
  const devTokens = values['dev-tokens'] || process.env.CHAT_DEV_TOKENS === '1';
  const badConfiguration = (error: unknown) => new ToolError(ServeErrorCodes.BAD_CONFIGURATION, (error as Error).message, { cause: error });
  let limits: Partial<Limits>;
  try {
    limits = parseLimitOverrides([...(process.env.CHAT_LIMITS?.split(/[\s;]+/).filter(Boolean) ?? []), ...values.limit]);
  } catch (error) {
    throw badConfiguration(error);
  }
  const nodeId = values['node-id'];
  const port = values.port;

  /** The CHAT_TOKEN_* variables, defaulting to HS256 with the embedded world's development secret. */
  function embeddedTokenSettings(): TokenSettings {
    try {
      return tokenSettingsFromEnv(process.env, { defaultSecret: EMBEDDED_DEV_SECRET });
    } catch (error) {
      throw badConfiguration(error);
    }
  }

  async function startProduction(): Promise<RunningServer & { closeWorld(): Promise<void> }> {
    const config = productionConfigFromEnv(process.env, nodeId);
    const metrics = new PromMetrics({ nodeId });
    const world = await buildProductionWorld(config, { metrics, limits });
    const server = await startServer({
      node: world.node,
      host: values.host,
      port,
      devTokens,
      renderMetrics: () => metrics.render(),
    });
    return { ...server, closeWorld: () => world.close() };
  }

  let server: RunningServer & { closeWorld?: () => Promise<void> };
  try {
    server =
      values.world === 'production'
        ? await startProduction()
        : await startEmbeddedServer({
            host: values.host,
            port,
            nodeId,
            limits,
            verbose: process.env.CHAT_LOG === '1',
            ...(process.env.CHAT_TOKEN_SECRET ? { tokenSecret: process.env.CHAT_TOKEN_SECRET } : {}),
            tokens: embeddedTokenSettings(),
          });
  } catch (error) {
    if (error instanceof ToolError) throw error;
    if (error instanceof ConfigurationError) throw badConfiguration(error);
    consoleLogger(nodeId).error('could not start', { error: String((error as Error).stack ?? error) });
    throw new ToolError(ServeErrorCodes.START_FAILED, `could not start the ${values.world} world: ${(error as Error).message}`, {
      cause: error,
    });
  }

  if (!values.quiet) {
    process.stdout.write(
      [
        `chat gateway ${nodeId} (${values.world} world) listening`,
        `  websocket  ${server.wsUrl}`,
        `  tokens     curl -s -XPOST ${server.httpUrl}/dev/token -d '{"userId":"alice","deviceId":"phone"}'  (embedded, or --dev-tokens)`,
        `  metrics    ${server.httpUrl}/metrics`,
        `  health     ${server.httpUrl}/healthz`,
        '',
      ].join('\n'),
    );
  }
  // Machine-readable line for scripts that start this process (benchmarks, drills, the cluster launcher).
  process.stdout.write(`READY ${JSON.stringify({ wsUrl: server.wsUrl, httpUrl: server.httpUrl, nodeId, pid: process.pid })}\n`);
  stopOnSignals(server);
});

/** How long a closed gateway may wait for its last handles before it exits anyway. */
const EXIT_FALLBACK_MS = 2_000;

function stopOnSignals(server: RunningServer & { closeWorld?: () => Promise<void> }): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void server
        .close()
        .then(() => server.closeWorld?.())
        .then(() => {
          // End by running out of work rather than process.exit(): 'beforeExit' then fires, and
          // tools preloaded into the process (clinic's samplers) flush what they recorded. A handle
          // left open by a backend client must not keep a stopped gateway alive, hence the fallback.
          setTimeout(() => process.exit(0), EXIT_FALLBACK_MS).unref();
        });
    });
  }
}
