// Fast checks of the local-services tool that start no server: settings, generated config
// files, the env output, and pid-file bookkeeping.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cassandraYaml, dataDirs, dependencyPom, jvmArgs } from './cassandra.js';
import { loadConfig, scrapeTargets } from './config.js';
import { containerSpecs } from './container-specs.js';
import { ServicesErrorCodes } from './error-codes.js';
import { isAlive, pidRecordFor, readPidFile, tailFile, writePidFile } from './process.js';
import { prometheusConfig } from './prometheus.js';
import { redisArgs } from './redis.js';
import { formatEnv, parseServiceNames, serviceEnv } from './services-api.js';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'services-test-'));
  tmpDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('config and env', () => {
  it('uses private loopback defaults', () => {
    const env = serviceEnv(loadConfig({}));
    expect(env).toMatchObject({
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:19042',
      CASSANDRA_LOCAL_DC: 'datacenter1',
      REDIS_URL: 'redis://127.0.0.1:16379',
      S3_ENDPOINT: 'http://127.0.0.1:17070',
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'chat-media',
      PROMETHEUS_URL: 'http://127.0.0.1:19090',
    });
    expect(env.S3_ACCESS_KEY_ID).not.toBe('');
    expect(env.S3_SECRET_ACCESS_KEY).not.toBe('');
  });

  it('takes ports and S3 settings from the environment', () => {
    const env = serviceEnv(
      loadConfig({
        LOCAL_CASSANDRA_PORT: '29042',
        LOCAL_REDIS_PORT: '26379',
        LOCAL_S3_PORT: '27070',
        LOCAL_PROMETHEUS_PORT: '29090',
        S3_BUCKET: 'other',
      }),
    );
    expect(env.CASSANDRA_CONTACT_POINTS).toBe('127.0.0.1:29042');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:26379');
    expect(env.S3_ENDPOINT).toBe('http://127.0.0.1:27070');
    expect(env.PROMETHEUS_URL).toBe('http://127.0.0.1:29090');
    expect(env.S3_BUCKET).toBe('other');
  });

  it('rejects bad values with SERVICES_BAD_CONFIG naming the variable', () => {
    expect(() => loadConfig({ LOCAL_REDIS_PORT: 'tcp://172.17.0.2:6379' })).toThrow(/LOCAL_REDIS_PORT/);
    expect(() => loadConfig({ LOCAL_CASSANDRA_HEAP: 'lots' })).toThrow(expect.objectContaining({ code: ServicesErrorCodes.BAD_CONFIG }));
    expect(() => loadConfig({ LOCAL_CASSANDRA_JIT: 'C2' })).toThrow(/LOCAL_CASSANDRA_JIT=C2 must be one of c1, tiered/);
    expect(() => scrapeTargets('127.0.0.1:8080,not a target')).toThrow(/PROMETHEUS_SCRAPE_TARGETS/);
    expect(() => parseServiceNames(['redis', 'mysql'])).toThrow(/unknown service mysql/);
  });

  it('prints env lines a shell can source', () => {
    const text = formatEnv({ ...serviceEnv(loadConfig({})), S3_SECRET_ACCESS_KEY: "it's $secret" });
    expect(text).toContain('REDIS_URL=redis://127.0.0.1:16379\n');
    expect(text).toContain(`S3_SECRET_ACCESS_KEY='it'\\''s $secret'`);
    for (const line of text.split('\n')) expect(line).toMatch(/^[A-Z0-9_]+=/);
  });

  it('parses scrape targets, empty meaning none', () => {
    expect(scrapeTargets(' 127.0.0.1:8080 , localhost:9464 ')).toEqual(['127.0.0.1:8080', 'localhost:9464']);
    expect(scrapeTargets('')).toEqual([]);
  });
});

describe('generated files', () => {
  it('writes a Cassandra 5 yaml bound to loopback with the configured ports', () => {
    const config = loadConfig({ LOCAL_CASSANDRA_PORT: '29042', LOCAL_CASSANDRA_STORAGE_PORT: '27000' });
    const yaml = parse(cassandraYaml(config, dataDirs('/srv/cassandra')));
    expect(yaml).toMatchObject({
      num_tokens: 16,
      endpoint_snitch: 'SimpleSnitch',
      listen_address: '127.0.0.1',
      rpc_address: '127.0.0.1',
      native_transport_port: 29042,
      storage_port: 27000,
      commitlog_sync: 'periodic',
      commitlog_sync_period: '10000ms',
      data_file_directories: ['/srv/cassandra/data/data'],
      // Above what group commit sends (64 statements, ~48 KiB), so its batches log nothing.
      batch_size_warn_threshold: '64KiB',
      batch_size_fail_threshold: '640KiB',
      unlogged_batch_across_partitions_warn_threshold: 1000,
    });
    expect(yaml.seed_provider[0].parameters[0].seeds).toBe('127.0.0.1:27000');
  });

  it('launches Cassandra with the heap, jamm agent and no JMX port', () => {
    const lib = tmpDir();
    fs.writeFileSync(path.join(lib, 'jamm-0.4.0.jar'), '');
    const args = jvmArgs({
      heap: '768m',
      jit: loadConfig({}).cassandra.jit,
      lib,
      yamlFile: '/x/cassandra.yaml',
      logbackFile: '/x/logback.xml',
      dirs: dataDirs('/x'),
    });
    expect(args).toContain('-Xmx768m');
    expect(args).toContain(`-javaagent:${path.join(lib, 'jamm-0.4.0.jar')}`);
    expect(args).toContain('--add-opens=java.base/sun.nio.ch=ALL-UNNAMED');
    expect(args.some((a) => a.startsWith('-Dcassandra.jmx') || a.startsWith('-Dcom.sun.management.jmxremote'))).toBe(false);
    expect(args.at(-1)).toBe('org.apache.cassandra.service.CassandraDaemon');
    expect(dependencyPom('5.0.9')).toContain('<version>5.0.9</version>');
  });

  it('runs Cassandra on the C1 compiler only unless LOCAL_CASSANDRA_JIT=tiered', () => {
    const launch = (env: Record<string, string>) =>
      jvmArgs({
        heap: '1g',
        jit: loadConfig(env).cassandra.jit,
        lib: tmpDir(),
        yamlFile: '/x/c.yaml',
        logbackFile: '/x/l.xml',
        dirs: dataDirs('/x'),
      });
    expect(launch({})).toContain('-XX:TieredStopAtLevel=1');
    expect(launch({ LOCAL_CASSANDRA_JIT: 'tiered' }).some((a) => a.startsWith('-XX:TieredStopAtLevel'))).toBe(false);
    const container = containerSpecs(loadConfig({})).find((spec) => spec.service === 'cassandra')!;
    expect(container.environment.JVM_EXTRA_OPTS).toContain('-XX:TieredStopAtLevel=1');
  });

  it('writes a Prometheus config with itself and the app targets', () => {
    const config = loadConfig({ PROMETHEUS_SCRAPE_TARGETS: '127.0.0.1:8080,127.0.0.1:8081' });
    const yaml = parse(prometheusConfig(config));
    expect(yaml.global.scrape_interval).toBe('5s');
    expect(yaml.scrape_configs).toEqual([
      { job_name: 'prometheus', static_configs: [{ targets: ['127.0.0.1:19090'] }] },
      { job_name: 'app', static_configs: [{ targets: ['127.0.0.1:8080', '127.0.0.1:8081'] }] },
    ]);
    const none = parse(prometheusConfig(loadConfig({ PROMETHEUS_SCRAPE_TARGETS: '' })));
    expect(none.scrape_configs).toHaveLength(1);
  });

  it('runs Redis as a loopback-only cache', () => {
    const args = redisArgs(16379, '/d');
    expect(args.join(' ')).toContain('--port 16379 --bind 127.0.0.1 --save  --appendonly no --daemonize no');
  });
});

describe('pid files and logs', () => {
  it('round-trips a pid record and recognises our own live process', () => {
    const file = path.join(tmpDir(), 'x.pid');
    writePidFile(file, pidRecordFor(process.pid, 16379));
    const record = readPidFile(file);
    expect(record).toMatchObject({ pid: process.pid, port: 16379 });
    expect(isAlive(record!)).toBe(true);
  });

  it('does not take a reused pid for ours', () => {
    const record = pidRecordFor(process.pid);
    if (record.startTime === undefined) return; // no /proc: start times cannot be compared
    expect(isAlive({ ...record, startTime: record.startTime + 1 })).toBe(false);
  });

  it('treats a garbage pid file as no process', () => {
    const file = path.join(tmpDir(), 'x.pid');
    fs.writeFileSync(file, 'not a pid\n');
    expect(readPidFile(file)).toBeUndefined();
  });

  it('quotes only the log written since the given offset', () => {
    const file = path.join(tmpDir(), 'x.log');
    fs.writeFileSync(file, 'old run\n');
    const offset = fs.statSync(file).size;
    fs.appendFileSync(file, 'new run line 1\nnew run line 2\n');
    expect(tailFile(file, 20, offset)).toBe('new run line 1\nnew run line 2');
    expect(tailFile(file, 1)).toBe('new run line 2');
    expect(tailFile(path.join(tmpDir(), 'missing.log'))).toBe('');
  });
});
