/**
 * Starts Cassandra, Redis, S3 (versitygw) and Prometheus as throwaway containers with
 * testcontainers, for integration tests on a machine with a container engine:
 *
 *   const services = await startContainers({ log: console.error });
 *   services.env.REDIS_URL   // same variable names as serviceEnv(); host ports picked by the engine
 *   await services.stop();
 *
 * After each container's wait strategy passes, the local path's own health probe runs against
 * the published port (CQL query, PING, S3 GET, /-/ready) and the media bucket is created, so a
 * caller gets the same guarantees as from ensureServices().
 *
 * Untested here: the build machines have no container engine.
 */
import { GenericContainer, Wait, type StartedTestContainer, type WaitStrategy } from 'testcontainers';
import { cassandra } from './cassandra.js';
import { loadConfig, type LocalConfig, type ServiceName } from './config.js';
import { configWithPorts, containerSpecs, isLoopbackHost, type ContainerSpec, type ContainerWait } from './container-specs.js';
import { serviceError, servicesError, servicesFailed, ServicesErrorCodes } from './error-codes.js';
import { prometheus } from './prometheus.js';
import { redis } from './redis.js';
import { serviceContext, type ServiceDefinition } from './service.js';
import { serviceEnv, type ServiceEnv } from './services-api.js';
import { versitygw } from './versitygw.js';

const HEALTH_PROBES: Record<ServiceName, ServiceDefinition> = { cassandra, redis, s3: versitygw, prometheus };
/** After the wait strategy passed, the probe should succeed at once; allow for a slow first CQL connection. */
const HEALTH_RETRY_MS = 30_000;
const HEALTH_RETRY_INTERVAL_MS = 1_000;

export interface StartedContainers {
  env: ServiceEnv;
  /** Stops and removes every container (their data goes with them). */
  stop(): Promise<void>;
}

export interface ContainersOptions {
  /** Defaults to loadConfig(process.env): versions, heap, credentials, bucket. */
  config?: LocalConfig;
  log?: (message: string) => void;
}

export async function startContainers(options: ContainersOptions = {}): Promise<StartedContainers> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? (() => {});
  const specs = containerSpecs(config);
  const settled = await Promise.allSettled(specs.map((spec) => startOne(spec, log)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = () => stopAll(started.map((s) => s.container));
  const failures = settled.flatMap((s, i) =>
    s.status === 'rejected' ? [{ service: specs[i]?.service ?? '?', error: s.reason as unknown }] : [],
  );
  if (failures.length > 0) {
    await stop();
    throw servicesFailed(failures);
  }
  try {
    const hostPorts = publishedPorts(started);
    const servicesConfig = configWithPorts(config, hostPorts);
    await Promise.all(specs.map((spec) => confirmHealthy(HEALTH_PROBES[spec.service], servicesConfig, log)));
    await versitygw.afterHealthy?.(serviceContext(servicesConfig, 's3', log));
    return { env: serviceEnv(servicesConfig), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Turns a ContainerSpec into a testcontainers definition; needs no engine until start(). */
export function toGenericContainer(spec: ContainerSpec): GenericContainer {
  let container = new GenericContainer(spec.image)
    .withExposedPorts(spec.containerPort)
    .withEnvironment(spec.environment)
    .withWaitStrategy(waitStrategy(spec.wait, spec.containerPort))
    .withStartupTimeout(spec.startupTimeoutMs)
    .withLabels({ 'chatload.service': spec.service });
  if (spec.entrypoint) container = container.withEntrypoint(spec.entrypoint);
  if (spec.command) container = container.withCommand(spec.command);
  if (spec.files.length > 0) container = container.withCopyContentToContainer(spec.files);
  return container;
}

function waitStrategy(wait: ContainerWait, port: number): WaitStrategy {
  switch (wait.kind) {
    case 'log':
      return Wait.forLogMessage(wait.pattern);
    case 'shell':
      return Wait.forSuccessfulCommand(wait.command);
    case 'http':
      return Wait.forHttp(wait.path, port).forStatusCodeMatching((status) => status >= wait.lowestStatus && status <= wait.highestStatus);
  }
}

interface StartedService {
  spec: ContainerSpec;
  container: StartedTestContainer;
}

async function startOne(spec: ContainerSpec, log: (message: string) => void): Promise<StartedService> {
  log(`${spec.service}: starting ${spec.image} (the first run pulls the image)`);
  const container = await toGenericContainer(spec).start();
  log(`${spec.service}: ready on ${container.getHost()}:${container.getMappedPort(spec.containerPort)}`);
  return { spec, container };
}

function publishedPorts(started: StartedService[]): Record<ServiceName, number> {
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const { spec, container } of started) {
    const host = container.getHost();
    if (!isLoopbackHost(host)) {
      throw servicesError(
        ServicesErrorCodes.CONTAINER_HOST_NOT_LOCAL,
        `${spec.service}: the container engine publishes ports on ${host}; the tests talk to 127.0.0.1 only, so use an engine on this machine or CHAT_TEST_SERVICES=local`,
      );
    }
    ports[spec.service] = container.getMappedPort(spec.containerPort);
  }
  const { cassandra: c, redis: r, s3, prometheus: p } = ports;
  if (c === undefined || r === undefined || s3 === undefined || p === undefined) throw new Error('a service container is missing');
  return { cassandra: c, redis: r, s3, prometheus: p };
}

/** The local path's probe, against the published port, retried briefly. */
async function confirmHealthy(definition: ServiceDefinition, config: LocalConfig, log: (message: string) => void): Promise<void> {
  const ctx = serviceContext(config, definition.name, log);
  const deadline = Date.now() + HEALTH_RETRY_MS;
  for (;;) {
    try {
      ctx.log(`health: ${await definition.health(ctx)}`);
      return;
    } catch (error) {
      if (Date.now() >= deadline) {
        const reason = error instanceof Error ? error.message : String(error);
        throw serviceError(
          ServicesErrorCodes.HEALTH_TIMEOUT,
          definition.name,
          `container is up but its health probe still fails after ${HEALTH_RETRY_MS} ms: ${reason}`,
          undefined,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_RETRY_INTERVAL_MS));
    }
  }
}

async function stopAll(containers: StartedTestContainer[]): Promise<void> {
  await Promise.allSettled(containers.map((c) => c.stop()));
}
