/**
 * `npm run system -- --nodes 3`: several gateway processes on the real backends. Brings the local
 * services up first when their variables are not set (npm run services), points Prometheus at
 * the gateways, prints the URLs, and stops every node on Ctrl-C.
 *
 *   npm run system -- [--nodes 3] [--base-port 8081] [--world production|embedded] [--limit name=value ...]
 */
import { parseArgs } from 'node:util';
import { ensureServices } from '../../infra/local/services-api.js';
import { startCluster } from './cluster.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    'base-port': { type: 'string', default: '8081' },
    world: { type: 'string', default: 'production' },
    limit: { type: 'string', multiple: true, default: [] },
  },
});
const nodes = Number(values.nodes);
const basePort = Number(values['base-port']);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) {
  process.stderr.write('--nodes must be 1..64\n');
  process.exit(3);
}
if (values.world !== 'production' && values.world !== 'embedded') {
  process.stderr.write('--world must be production or embedded\n');
  process.exit(3);
}

let env: NodeJS.ProcessEnv = process.env;
if (values.world === 'production' && !process.env.CASSANDRA_CONTACT_POINTS) {
  process.stderr.write('backend variables not set: starting the local services (npm run services -- up)\n');
  const targets = Array.from({ length: nodes }, (_, i) => `127.0.0.1:${basePort + i}`).join(',');
  process.env.PROMETHEUS_SCRAPE_TARGETS = targets;
  env = { ...process.env, ...(await ensureServices([], { log: (line) => process.stderr.write(`  ${line}\n`) })) };
}

const cluster = await startCluster({ nodes, world: values.world, basePort, env, limits: values.limit });
process.stdout.write(`${nodes} gateway(s) in the ${values.world} world:\n`);
for (const [i, url] of cluster.wsUrls.entries()) process.stdout.write(`  gw-${i + 1}  ${url}   ${cluster.httpUrls[i]}/metrics\n`);
process.stdout.write(`token secret (CHAT_TOKEN_SECRET): ${cluster.tokenSecret}\nCtrl-C stops them.\n`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void cluster.stop().then(() => process.exit(0));
  });
}
