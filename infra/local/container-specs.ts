/**
 * The four backing services as container definitions: plain data, so they can be checked
 * without a container engine. containers.ts turns them into testcontainers GenericContainers.
 *
 * Images and settings follow docker-compose.yml (the staging topology); versions come from the
 * same settings as the local processes (LOCAL_CASSANDRA_VERSION, LOCAL_VERSITYGW_VERSION), so
 * both paths run the same Cassandra and versitygw. Credentials, region, bucket and data center
 * are the ones serviceEnv() reports, so the variables clients get have the same names and
 * meanings on both paths; only the host ports differ (the engine picks free ones).
 */
import { stringify } from 'yaml';
import { jitFlags, type LocalConfig, type ServiceName } from './config.js';

/** How testcontainers decides a container is ready. */
export type ContainerWait =
  | { kind: 'log'; pattern: RegExp }
  | { kind: 'shell'; command: string }
  | { kind: 'http'; path: string; lowestStatus: number; highestStatus: number };

export interface ContainerSpec {
  service: ServiceName;
  image: string;
  /** The port clients use, inside the container; published on a free host port. */
  containerPort: number;
  /** Replaces the image's entrypoint; omitted: the image's own. */
  entrypoint?: string[];
  command?: string[];
  environment: Record<string, string>;
  /** Files written into the container before it starts. */
  files: Array<{ target: string; content: string }>;
  wait: ContainerWait;
  startupTimeoutMs: number;
}

export const CONTAINER_PORTS: Readonly<Record<ServiceName, number>> = { cassandra: 9042, redis: 6379, s3: 7070, prometheus: 9090 };

/** As in docker-compose.yml. */
export const REDIS_IMAGE = 'redis:7';
export const PROMETHEUS_IMAGE = 'prom/prometheus:v2.53.0';

export function containerSpecs(config: LocalConfig): ContainerSpec[] {
  return [cassandraSpec(config), redisSpec(), s3Spec(config), prometheusSpec(config)];
}

function cassandraSpec(config: LocalConfig): ContainerSpec {
  return {
    service: 'cassandra',
    image: `cassandra:${config.cassandra.version}`,
    containerPort: CONTAINER_PORTS.cassandra,
    environment: {
      // The image's cassandra-env.sh wants both or neither.
      MAX_HEAP_SIZE: config.cassandra.heap,
      HEAP_NEWSIZE: '200M',
      // A single node need not wait for gossip to settle (the local path does the same).
      // The same JIT choice as the local path (see jitFlags).
      JVM_EXTRA_OPTS: [
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        '-Dcassandra.ring_delay_ms=0',
        ...jitFlags(config.cassandra.jit),
      ].join(' '),
    },
    files: [],
    // Logged once the CQL port is open; containers.ts then runs the same CQL probe as the local path.
    wait: { kind: 'log', pattern: /Startup complete/ },
    startupTimeoutMs: 240_000,
  };
}

function redisSpec(): ContainerSpec {
  return {
    service: 'redis',
    image: REDIS_IMAGE,
    containerPort: CONTAINER_PORTS.redis,
    // A pure cache for tests, as in compose: no snapshots, no AOF; expiry events for presence.
    command: ['redis-server', '--save', '', '--appendonly', 'no', '--notify-keyspace-events', 'Ex'],
    environment: {},
    files: [],
    wait: { kind: 'shell', command: 'redis-cli ping | grep -q PONG' },
    startupTimeoutMs: 60_000,
  };
}

function s3Spec(config: LocalConfig): ContainerSpec {
  const { versitygwVersion, region, accessKeyId, secretAccessKey } = config.s3;
  return {
    service: 's3',
    image: `versity/versitygw:${versitygwVersion}`,
    containerPort: CONTAINER_PORTS.s3,
    // The posix backend needs its folders to exist; the image's entrypoint would not create them.
    // Metadata goes to a sidecar folder because overlay filesystems may lack user xattrs.
    entrypoint: ['/bin/sh', '-c', 'mkdir -p /data/buckets /data/meta && exec versitygw "$@"', 'versitygw'],
    command: ['--port', `:${CONTAINER_PORTS.s3}`, '--region', region, '--quiet', 'posix', '--sidecar', '/data/meta', '/data/buckets'],
    environment: { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    files: [],
    // An unsigned GET / gets 403 from a healthy gateway; any answer below 500 means it is serving.
    wait: { kind: 'http', path: '/', lowestStatus: 200, highestStatus: 499 },
    startupTimeoutMs: 60_000,
  };
}

function prometheusSpec(config: LocalConfig): ContainerSpec {
  return {
    service: 'prometheus',
    image: PROMETHEUS_IMAGE,
    containerPort: CONTAINER_PORTS.prometheus,
    environment: {},
    files: [{ target: '/etc/prometheus/prometheus.yml', content: containerPrometheusConfig(config) }],
    wait: { kind: 'http', path: '/-/ready', lowestStatus: 200, highestStatus: 200 },
    startupTimeoutMs: 60_000,
  };
}

/**
 * Prometheus scrapes itself only: the application under test listens on the host's loopback,
 * which a container cannot reach, so PROMETHEUS_SCRAPE_TARGETS applies to the local path only.
 */
export function containerPrometheusConfig(config: LocalConfig): string {
  const interval = config.prometheus.scrapeInterval;
  const document = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: 'prometheus', static_configs: [{ targets: [`localhost:${CONTAINER_PORTS.prometheus}`] }] }],
  };
  return `# Generated by infra/local/container-specs.ts for the test container.\n${stringify(document)}`;
}

/** The settings with each service's port replaced by its published host port; serviceEnv() of it is what clients use. */
export function configWithPorts(config: LocalConfig, hostPorts: Readonly<Record<ServiceName, number>>): LocalConfig {
  return {
    ...config,
    cassandra: { ...config.cassandra, nativePort: hostPorts.cassandra },
    redis: { ...config.redis, port: hostPorts.redis },
    s3: { ...config.s3, port: hostPorts.s3 },
    prometheus: { ...config.prometheus, port: hostPorts.prometheus, scrapeTargets: [] },
  };
}

/**
 * Clients, health probes and the bucket set-up all use 127.0.0.1 (services-api HOST). An engine
 * on this machine publishes ports there; a remote one (DOCKER_HOST=tcp://elsewhere) does not.
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
