/**
 * Composition root of the live system: reads configuration (arguments and environment — the only
 * place that does) and serves one gateway node, in the embedded world (default) or the
 * production world (Cassandra, Redis, S3, FCM).
 *
 *   tsx system/main.ts [--world embedded|production] [--port 8080] [--host 127.0.0.1]
 *                      [--node-id node-1] [--limit name=value ...] [--dev-tokens] [--quiet]
 *   env: CHAT_WORLD, CHAT_PORT, CHAT_HOST, CHAT_NODE_ID, CHAT_TOKEN_SECRET (and the other CHAT_TOKEN_*
 *        variables: JWT algorithm, keys, issuer, audience), CHAT_LOG=1,
 *        CHAT_LIMITS="name=value name=value" (space or ; separated; names as in system/core/limits.ts),
 *        CHAT_DEV_TOKENS=1, and for production the variables listed in the README.
 */
import { parseArgs } from 'node:util';
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

const COULD_NOT_RUN = 3;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(COULD_NOT_RUN);
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        world: { type: 'string', default: process.env.CHAT_WORLD ?? 'embedded' },
        port: { type: 'string', default: process.env.CHAT_PORT ?? '8080' },
        host: { type: 'string', default: process.env.CHAT_HOST ?? '127.0.0.1' },
        'node-id': { type: 'string', default: process.env.CHAT_NODE_ID ?? 'node-1' },
        'dev-tokens': { type: 'boolean', default: process.env.CHAT_DEV_TOKENS === '1' },
        quiet: { type: 'boolean', default: false },
        limit: { type: 'string', multiple: true, default: [] },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}
const values = parseOptions();

let limits: Partial<Limits>;
try {
  limits = parseLimitOverrides([...(process.env.CHAT_LIMITS?.split(/[\s;]+/).filter(Boolean) ?? []), ...values.limit]);
} catch (error) {
  fail((error as Error).message);
}
const nodeId = values['node-id'];

/** The CHAT_TOKEN_* variables, defaulting to HS256 with the embedded world's development secret. */
function embeddedTokenSettings(): TokenSettings {
  try {
    return tokenSettingsFromEnv(process.env, { defaultSecret: EMBEDDED_DEV_SECRET });
  } catch (error) {
    return fail(`configuration: ${(error as Error).message}`);
  }
}
const port = Number(values.port);

async function startProduction(): Promise<RunningServer & { closeWorld(): Promise<void> }> {
  const config = productionConfigFromEnv(process.env, nodeId);
  const metrics = new PromMetrics({ nodeId });
  const world = await buildProductionWorld(config, { metrics, limits });
  const server = await startServer({
    node: world.node,
    host: values.host,
    port,
    devTokens: values['dev-tokens'],
    renderMetrics: () => metrics.render(),
  });
  return { ...server, closeWorld: () => world.close() };
}

let server: RunningServer & { closeWorld?: () => Promise<void> };
try {
  if (values.world === 'production') {
    server = await startProduction();
  } else if (values.world === 'embedded') {
    server = await startEmbeddedServer({
      host: values.host,
      port,
      nodeId,
      limits,
      verbose: process.env.CHAT_LOG === '1',
      ...(process.env.CHAT_TOKEN_SECRET ? { tokenSecret: process.env.CHAT_TOKEN_SECRET } : {}),
      tokens: embeddedTokenSettings(),
    });
  } else {
    fail(`--world must be embedded or production, not "${values.world}"`);
  }
} catch (error) {
  if (error instanceof ConfigurationError) fail(`configuration: ${error.message}`);
  consoleLogger(nodeId).error('could not start', { error: String((error as Error).stack ?? error) });
  fail(`could not start the ${values.world} world: ${(error as Error).message}`);
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

/** How long a closed gateway may wait for its last handles before it exits anyway. */
const EXIT_FALLBACK_MS = 2_000;
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
