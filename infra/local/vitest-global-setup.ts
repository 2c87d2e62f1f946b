/**
 * Brings up the real services the integration tests use (Cassandra, Redis, S3, Prometheus)
 * before any test file runs, so `npm test` alone passes for a newcomer and in CI. Two ways,
 * chosen by CHAT_TEST_SERVICES (see test-services-mode.ts):
 *
 *   auto (default)  containers when a container engine answers, local processes otherwise
 *   local           local processes (installed first on a fresh machine); ones this run started
 *                   are stopped at the end, ones already running are left alone
 *   containers      throwaway containers through testcontainers; fails if no engine answers
 *   none            nothing; vitest.config.ts then leaves the real-service suites out
 */
import { probeContainerEngine } from './container-engine.js';
import { announceServices } from './provided-services.js';
import { serviceEnv, stopServices, upServices, type ServiceName } from './services-api.js';
import { needsEngineProbe, parseTestServicesMode, selectTestServices } from './test-services-mode.js';

const SERVICES: ServiceName[] = ['cassandra', 'redis', 's3', 'prometheus'];

type Teardown = () => Promise<void>;

export default async function setup(): Promise<Teardown | undefined> {
  const mode = parseTestServicesMode(process.env.CHAT_TEST_SERVICES);
  const engine = needsEngineProbe(mode) ? await probeContainerEngine() : undefined;
  const choice = selectTestServices(mode, engine);
  process.stderr.write(`test services: ${choice.path} (${choice.reason})\n`);
  if (choice.path === 'none') return undefined;
  return choice.path === 'containers' ? startContainerServices() : startLocalServices();
}

async function startLocalServices(): Promise<Teardown> {
  const startedMs = Date.now();
  process.stderr.write(`test services: ensuring ${SERVICES.join(', ')} (first run on a fresh machine installs them: minutes)\n`);
  const results = await upServices(SERVICES, { log: (line) => process.stderr.write(`  ${line}\n`) });
  const started = results.filter((r) => r.started).map((r) => r.service as ServiceName);
  process.stderr.write(`test services: ready in ${((Date.now() - startedMs) / 1000).toFixed(1)} s\n`);
  Object.assign(process.env, serviceEnv(), { CHAT_TEST_SERVICES: 'local' });
  return async () => {
    if (started.length > 0 && process.env.CHAT_KEEP_SERVICES !== '1') await stopServices(started);
  };
}

async function startContainerServices(): Promise<Teardown> {
  const startedMs = Date.now();
  process.stderr.write(`test services: starting ${SERVICES.join(', ')} as containers (the first run pulls the images: minutes)\n`);
  // Loaded only here: testcontainers takes seconds to load, which the local path should not pay.
  const { startContainers } = await import('./containers.js');
  const services = await startContainers({ log: (line) => process.stderr.write(`  ${line}\n`) });
  process.stderr.write(`test services: ready in ${((Date.now() - startedMs) / 1000).toFixed(1)} s\n`);
  // Workers inherit this environment: ensureServices()/serviceEnv() in the suites then answer with the containers.
  Object.assign(process.env, announceServices(services.env, 'containers'), { CHAT_TEST_SERVICES: 'containers' });
  return () => services.stop();
}
