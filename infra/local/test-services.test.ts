// How the integration tests get their services: the CHAT_TEST_SERVICES choice, the container
// engine hints, the container definitions and the variables announced to the suites. Needs no
// container engine and starts nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, REPO_ROOT } from './config.js';
import { engineHints, type EngineHintSources } from './container-engine.js';
import {
  CONTAINER_PORTS,
  configWithPorts,
  containerPrometheusConfig,
  containerSpecs,
  isLoopbackHost,
  type ContainerSpec,
} from './container-specs.js';
import { ServicesErrorCodes } from './error-codes.js';
import { announceServices, PROVIDED_MARKER, providedServiceEnv } from './provided-services.js';
import { ensureServices, serviceEnv, type ServiceEnv } from './services-api.js';
import { needsEngineProbe, parseTestServicesMode, selectTestServices } from './test-services-mode.js';

const ENGINE = { present: true, detail: 'engine 28.2 on Debian' };
const NO_ENGINE = { present: false, detail: 'no DOCKER_HOST, no Docker socket' };

describe('CHAT_TEST_SERVICES', () => {
  it('defaults to auto and accepts the four modes', () => {
    expect(parseTestServicesMode(undefined)).toBe('auto');
    expect(parseTestServicesMode('')).toBe('auto');
    for (const mode of ['auto', 'local', 'containers', 'none'] as const) expect(parseTestServicesMode(mode)).toBe(mode);
  });

  it('rejects anything else with the list of modes', () => {
    expect(() => parseTestServicesMode('docker')).toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
    expect(() => parseTestServicesMode('docker')).toThrow(/CHAT_TEST_SERVICES=docker is not one of auto, local, containers, none/);
    // vitest.config.ts compares with 'none' exactly, so a differently spelled value must not half-work.
    expect(() => parseTestServicesMode('NONE')).toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
  });

  it('probes for an engine only in auto and containers', () => {
    expect(needsEngineProbe('auto')).toBe(true);
    expect(needsEngineProbe('containers')).toBe(true);
    expect(needsEngineProbe('local')).toBe(false);
    expect(needsEngineProbe('none')).toBe(false);
  });

  it('auto picks containers with an engine and local processes without one', () => {
    expect(selectTestServices('auto', ENGINE)).toEqual({
      path: 'containers',
      reason: 'auto: container engine found (engine 28.2 on Debian)',
    });
    expect(selectTestServices('auto', NO_ENGINE)).toEqual({
      path: 'local',
      reason: 'auto: no container engine (no DOCKER_HOST, no Docker socket)',
    });
  });

  it('local and none ignore the engine', () => {
    for (const engine of [ENGINE, NO_ENGINE, undefined]) {
      expect(selectTestServices('local', engine).path).toBe('local');
      expect(selectTestServices('none', engine).path).toBe('none');
    }
  });

  it('containers without an engine fails clearly instead of falling back', () => {
    expect(selectTestServices('containers', ENGINE).path).toBe('containers');
    expect(() => selectTestServices('containers', NO_ENGINE)).toThrow(
      expect.objectContaining({ code: ServicesErrorCodes.CONTAINER_ENGINE_MISSING }),
    );
    expect(() => selectTestServices('containers', NO_ENGINE)).toThrow(
      /no container engine answered \(no DOCKER_HOST, no Docker socket\).*CHAT_TEST_SERVICES=local/,
    );
  });

  it('refuses to guess when a mode that needs a probe got none', () => {
    expect(() => selectTestServices('auto')).toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
    expect(() => selectTestServices('containers')).toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
  });
});

describe('container engine hints', () => {
  const none: EngineHintSources = { env: {}, platform: 'linux', homeDir: '/home/dev', uid: 1000, exists: () => false };

  it('finds nothing on a machine without DOCKER_HOST or sockets', () => {
    expect(engineHints(none)).toEqual([]);
  });

  it('names DOCKER_HOST, the testcontainers override and each socket that exists', () => {
    expect(engineHints({ ...none, env: { DOCKER_HOST: 'unix:///x.sock' } })).toEqual(['DOCKER_HOST']);
    expect(engineHints({ ...none, env: { TESTCONTAINERS_HOST_OVERRIDE: 'localhost' } })).toEqual(['TESTCONTAINERS_HOST_OVERRIDE']);
    const present = new Set(['/var/run/docker.sock', '/run/user/1000/docker.sock', '/home/dev/.docker/run/docker.sock']);
    expect(engineHints({ ...none, exists: (file) => present.has(file) })).toEqual([
      '/var/run/docker.sock',
      '/home/dev/.docker/run/docker.sock',
      '/run/user/1000/docker.sock',
    ]);
  });

  it('looks in XDG_RUNTIME_DIR and for the testcontainers properties file', () => {
    const present = new Set(['/tmp/xdg/docker.sock', '/home/dev/.testcontainers.properties']);
    const hints = engineHints({ ...none, env: { XDG_RUNTIME_DIR: '/tmp/xdg' }, exists: (file) => present.has(file) });
    expect(hints).toEqual(['/home/dev/.testcontainers.properties', '/tmp/xdg/docker.sock']);
  });

  it('always asks the library on Windows (named pipes cannot be checked cheaply)', () => {
    expect(engineHints({ ...none, platform: 'win32' })).toEqual(['Windows named pipe']);
  });
});

describe('container definitions', () => {
  const config = loadConfig({});
  const specs = containerSpecs(config);
  const spec = (service: ContainerSpec['service']): ContainerSpec => {
    const found = specs.find((s) => s.service === service);
    if (!found) throw new Error(`no spec for ${service}`);
    return found;
  };
  const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image: string }>;
  };

  it('defines the four services once each', () => {
    expect(specs.map((s) => s.service).sort()).toEqual(['cassandra', 'prometheus', 'redis', 's3']);
  });

  it('uses the images of docker-compose.yml, with Cassandra pinned to the local path version', () => {
    expect(spec('redis').image).toBe(compose.services.redis?.image);
    expect(spec('s3').image).toBe(compose.services.s3?.image);
    expect(spec('prometheus').image).toBe(compose.services.prometheus?.image);
    expect(compose.services.cassandra?.image).toBe('cassandra:5.0');
    expect(spec('cassandra').image).toBe('cassandra:5.0.9');
    expect(containerSpecs(loadConfig({ LOCAL_CASSANDRA_VERSION: '5.0.8', LOCAL_VERSITYGW_VERSION: 'v1.7.0' })).map((s) => s.image)).toEqual(
      ['cassandra:5.0.8', 'redis:7', 'versity/versitygw:v1.7.0', 'prom/prometheus:v2.53.0'],
    );
  });

  it('exposes each service on its usual port inside the container', () => {
    expect(Object.fromEntries(specs.map((s) => [s.service, s.containerPort]))).toEqual({
      cassandra: 9042,
      redis: 6379,
      s3: 7070,
      prometheus: 9090,
    });
    expect(spec('s3').command).toContain(`:${CONTAINER_PORTS.s3}`);
  });

  it('waits for what each service prints or answers when ready', () => {
    expect(spec('cassandra').wait).toEqual({ kind: 'log', pattern: /Startup complete/ });
    expect(spec('redis').wait).toEqual({ kind: 'shell', command: 'redis-cli ping | grep -q PONG' });
    expect(spec('s3').wait).toEqual({ kind: 'http', path: '/', lowestStatus: 200, highestStatus: 499 });
    expect(spec('prometheus').wait).toEqual({ kind: 'http', path: '/-/ready', lowestStatus: 200, highestStatus: 200 });
  });

  it('gives versitygw the credentials and region that serviceEnv reports', () => {
    const env = serviceEnv(loadConfig({ S3_ACCESS_KEY_ID: 'ak', S3_SECRET_ACCESS_KEY: 'sk', S3_REGION: 'eu-west-1' }));
    const s3 = containerSpecs(loadConfig({ S3_ACCESS_KEY_ID: 'ak', S3_SECRET_ACCESS_KEY: 'sk', S3_REGION: 'eu-west-1' })).find(
      (s) => s.service === 's3',
    );
    expect(s3?.environment).toEqual({ ROOT_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY });
    expect(s3?.command).toEqual([
      '--port',
      ':7070',
      '--region',
      'eu-west-1',
      '--quiet',
      'posix',
      '--sidecar',
      '/data/meta',
      '/data/buckets',
    ]);
  });

  it('passes the heap setting to Cassandra and keeps Redis a pure cache with expiry events', () => {
    const cassandra = containerSpecs(loadConfig({ LOCAL_CASSANDRA_HEAP: '768m' })).find((s) => s.service === 'cassandra');
    expect(cassandra?.environment.MAX_HEAP_SIZE).toBe('768m');
    expect(cassandra?.environment.HEAP_NEWSIZE).toBeDefined();
    expect(spec('redis').command).toEqual(['redis-server', '--save', '', '--appendonly', 'no', '--notify-keyspace-events', 'Ex']);
  });

  it('has Prometheus scrape itself inside the container', () => {
    expect(spec('prometheus').files.map((f) => f.target)).toEqual(['/etc/prometheus/prometheus.yml']);
    const document = parse(containerPrometheusConfig(config)) as {
      global: { scrape_interval: string };
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(document.global.scrape_interval).toBe('5s');
    expect(document.scrape_configs).toEqual([{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] }]);
  });

  it('maps published host ports into the same variables as the local path', () => {
    const env = serviceEnv(configWithPorts(config, { cassandra: 32768, redis: 32769, s3: 32770, prometheus: 32771 }));
    expect(env).toEqual({
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:32768',
      CASSANDRA_LOCAL_DC: 'datacenter1',
      REDIS_URL: 'redis://127.0.0.1:32769',
      S3_ENDPOINT: 'http://127.0.0.1:32770',
      S3_ACCESS_KEY_ID: config.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'chat-media',
      PROMETHEUS_URL: 'http://127.0.0.1:32771',
    } satisfies ServiceEnv);
  });

  it('accepts only engines that publish ports on this machine', () => {
    for (const host of ['localhost', '127.0.0.1', '127.0.1.1', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['10.0.0.5', 'docker.example', '127.0.0.1.example', '']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('builds testcontainers definitions from the specs without a container engine', async () => {
    const { toGenericContainer } = await import('./containers.js');
    const built = specs.map(
      (s) => toGenericContainer(s) as unknown as { createOpts: { Image: string; Cmd?: string[]; Entrypoint?: string[] } },
    );
    expect(built.map((c) => c.createOpts.Image)).toEqual(specs.map((s) => s.image));
    expect(built.map((c) => c.createOpts.Cmd)).toEqual(specs.map((s) => s.command));
    expect(built.map((c) => c.createOpts.Entrypoint)).toEqual(specs.map((s) => s.entrypoint));
  }, 30_000);
});

describe('services announced through the environment', () => {
  const containerEnv = serviceEnv(configWithPorts(loadConfig({}), { cassandra: 40001, redis: 40002, s3: 40003, prometheus: 40004 }));
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('are absent unless the marker is set', () => {
    expect(providedServiceEnv({ ...containerEnv })).toBeUndefined();
    expect(providedServiceEnv({ ...containerEnv, [PROVIDED_MARKER]: '' })).toBeUndefined();
  });

  it('round-trip through announceServices', () => {
    const announced = announceServices(containerEnv, 'containers');
    expect(announced[PROVIDED_MARKER]).toBe('containers');
    expect(providedServiceEnv(announced)).toEqual(containerEnv);
  });

  it('must be complete', () => {
    const { REDIS_URL: _redis, S3_BUCKET: _bucket, ...partial } = announceServices(containerEnv, 'containers');
    expect(() => providedServiceEnv(partial)).toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
    expect(() => providedServiceEnv(partial)).toThrow(/CHAT_SERVICES_PROVIDED=containers is set, but REDIS_URL, S3_BUCKET are not/);
  });

  it('win in serviceEnv() and ensureServices() without a config, and start nothing', async () => {
    for (const [key, value] of Object.entries(announceServices(containerEnv, 'containers'))) vi.stubEnv(key, value);
    expect(serviceEnv()).toEqual(containerEnv);
    await expect(ensureServices(['redis', 'cassandra'])).resolves.toEqual(containerEnv);
    await expect(ensureServices(['mysql'])).rejects.toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
    // An explicit config still means the local processes it describes.
    expect(serviceEnv(loadConfig({})).REDIS_URL).toBe('redis://127.0.0.1:16379');
  });
});
