/**
 * `npm run system -- --nodes 3`: several gateway processes on the real backends. Brings the local
 * services up first when their variables are not set (npm run services), points Prometheus at
 * the gateways, prints the URLs, and stops every node on Ctrl-C. Options: `npm run system -- --help`.
 */
import { defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ensureServices } from '../../infra/local/services-api.js';
import { startCluster } from './cluster.js';

const command = defineCommand({
  name: 'system',
  purpose:
    'several gateway processes on the real backends (starting the local services when their variables are not set); Ctrl-C stops them',
  options: {
    nodes: { type: 'number', integer: true, min: 1, max: 64, default: 3, description: 'gateway processes' },
    'base-port': {
      type: 'number',
      integer: true,
      min: 1,
      max: 65_535,
      default: 8081,
      description: 'port of the first gateway; the others follow',
    },
    world: { type: 'string', choices: ['production', 'embedded'], default: 'production', description: 'the world every gateway runs' },
    limit: {
      type: 'string',
      multiple: true,
      placeholder: 'name=value',
      description: 'override a limit of system/core/limits.ts on every gateway',
    },
  },
  exitCodes: [{ code: 0, meaning: 'stopped by Ctrl-C (SIGINT) or SIGTERM after stopping every gateway' }, EXIT_COULD_NOT_RUN],
  badArgumentsCode: 'SYSTEM_BAD_ARGUMENTS',
});

await runCommand(command, async ({ values }) => {
  const { nodes, world } = values;
  const basePort = values['base-port'];
  let env: NodeJS.ProcessEnv = process.env;
  if (world === 'production' && !process.env.CASSANDRA_CONTACT_POINTS) {
    process.stderr.write('backend variables not set: starting the local services (npm run services -- up)\n');
    const targets = Array.from({ length: nodes }, (_, i) => `127.0.0.1:${basePort + i}`).join(',');
    process.env.PROMETHEUS_SCRAPE_TARGETS = targets;
    env = { ...process.env, ...(await ensureServices([], { log: (line) => process.stderr.write(`  ${line}\n`) })) };
  }

  const cluster = await startCluster({ nodes, world, basePort, env, limits: values.limit });
  process.stdout.write(`${nodes} gateway(s) in the ${world} world:\n`);
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
});
