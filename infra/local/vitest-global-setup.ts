/**
 * Brings up the real services the integration tests use (Cassandra, Redis, S3, Prometheus)
 * before any test file runs, installing them first on a fresh machine, so `npm test` alone
 * passes for a newcomer and in CI. Services this run started are stopped at the end; ones that
 * were already running are left alone.
 *
 *   CHAT_TEST_SERVICES=none npm test   → skip this; vitest.config.ts then leaves the real-service suites out
 */
import { serviceEnv, stopServices, upServices, type ServiceName } from './services-api.js';

const SERVICES: ServiceName[] = ['cassandra', 'redis', 's3', 'prometheus'];

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.CHAT_TEST_SERVICES === 'none') return undefined;
  const startedMs = Date.now();
  process.stderr.write(`test services: ensuring ${SERVICES.join(', ')} (first run on a fresh machine installs them: minutes)\n`);
  const results = await upServices(SERVICES, { log: (line) => process.stderr.write(`  ${line}\n`) });
  const started = results.filter((r) => r.started).map((r) => r.service as ServiceName);
  process.stderr.write(`test services: ready in ${((Date.now() - startedMs) / 1000).toFixed(1)} s\n`);
  Object.assign(process.env, serviceEnv(), { CHAT_TEST_SERVICES: 'up' });
  return async () => {
    if (started.length > 0 && process.env.CHAT_KEEP_SERVICES !== '1') await stopServices(started);
  };
}
