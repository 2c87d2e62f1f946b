/**
 * Composition root of the live system: reads configuration (arguments and environment — the only
 * place that does) and serves one gateway node. Today it runs the embedded world; production
 * adapters plug in here by configuration.
 *
 *   tsx system/main.ts [--port 8080] [--host 127.0.0.1] [--node-id node-1] [--limit name=value ...]
 *   env: CHAT_PORT, CHAT_HOST, CHAT_NODE_ID, CHAT_TOKEN_SECRET, CHAT_LOG=1,
 *        CHAT_LIMITS="name=value name=value" (space or ; separated) (same names as system/core/limits.ts)
 */
import { parseArgs } from 'node:util';
import { parseLimitOverrides } from './core/limits.js';
import { startEmbeddedServer } from './worlds/embedded-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.CHAT_PORT ?? '8080' },
    host: { type: 'string', default: process.env.CHAT_HOST ?? '127.0.0.1' },
    'node-id': { type: 'string', default: process.env.CHAT_NODE_ID ?? 'node-1' },
    quiet: { type: 'boolean', default: false },
    limit: { type: 'string', multiple: true, default: [] },
  },
});

let limits;
try {
  limits = parseLimitOverrides([...(process.env.CHAT_LIMITS?.split(/[\s;]+/).filter(Boolean) ?? []), ...values.limit]);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(3);
}

const server = await startEmbeddedServer({
  host: values.host,
  port: Number(values.port),
  nodeId: values['node-id'],
  limits,
  verbose: process.env.CHAT_LOG === '1',
  ...(process.env.CHAT_TOKEN_SECRET ? { tokenSecret: process.env.CHAT_TOKEN_SECRET } : {}),
});

if (!values.quiet) {
  process.stdout.write(
    [
      `chat gateway ${values['node-id']} (embedded world) listening`,
      `  websocket  ${server.wsUrl}`,
      `  tokens     curl -s -XPOST ${server.httpUrl}/dev/token -d '{"userId":"alice","deviceId":"phone"}'`,
      `  metrics    ${server.httpUrl}/metrics`,
      `  health     ${server.httpUrl}/healthz`,
      '',
    ].join('\n'),
  );
}
// Machine-readable line for scripts that start this process (benchmarks, drills).
process.stdout.write(`READY ${JSON.stringify({ wsUrl: server.wsUrl, httpUrl: server.httpUrl, pid: process.pid })}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.close().then(() => process.exit(0));
  });
}
