// Compose and Docker as `npm run compose` drives them: the compose command (v2 `docker compose` when
// present, else Compose 1.29 `docker-compose`), the settings both read (.env, else .env.example, with
// the process environment on top), image builds with their timings, and the state of each service.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STATE_DIR = path.join(REPO_DIR, 'var', 'compose');
export const PROJECT = process.env.COMPOSE_PROJECT_NAME || 'population-pipeline';
export const TASK_IMAGE = 'population-pipeline-task:latest';

export const log = (message: string): void => {
  process.stderr.write(`compose: ${message}\n`);
};

/** The env file compose reads: the user's .env, else the defaults of .env.example. */
export const ENV_FILE = existsSync(path.join(REPO_DIR, '.env')) ? '.env' : '.env.example';

function parseEnvFile(file: string): Record<string, string> {
  const entries = readFileSync(path.join(REPO_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^(['"])(.*)\1$/, '$2')]);
  return Object.fromEntries(entries);
}

/** A setting as compose resolves it: process environment, then the env file, then the default. */
export function setting(name: string, fallback: string): string {
  const fromEnv = process.env[name];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return parseEnvFile(ENV_FILE)[name] || fallback;
}

/** Host URLs of the published services, from the same variables as docker-compose.yml. */
export function urls() {
  const host = (variable: string, port: string) => `http://127.0.0.1:${setting(variable, port)}`;
  return {
    api: host('API_PORT', '8000'),
    airflow: host('AIRFLOW_PORT', '8080'),
    prometheus: host('PROMETHEUS_PORT', '9090'),
    pushgateway: host('PUSHGATEWAY_PORT', '9091'),
    hdfs: host('HDFS_WEB_PORT', '9870'),
    kafka: `127.0.0.1:${setting('KAFKA_PORT', '9092')}`,
  };
}

let composeCommand: string[] | undefined;
/** `docker compose` (v2) when the plugin answers, else Compose 1.29's `docker-compose`. */
export function composeBinary(): string[] {
  if (composeCommand) return composeCommand;
  const v2 = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
  composeCommand = v2.status === 0 ? ['docker', 'compose'] : ['docker-compose'];
  return composeCommand;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; output goes to the terminal (inherit) or is captured. */
export function run(
  argv: string[],
  options: { capture?: boolean; env?: NodeJS.ProcessEnv; logFile?: string; signal?: AbortSignal } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, {
      cwd: REPO_DIR,
      env: { ...process.env, ...options.env },
      stdio: options.capture || options.logFile ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => (err.name === 'AbortError' ? undefined : reject(err)));
    child.on('close', (code) => {
      if (options.logFile) writeFileSync(options.logFile, stdout + stderr);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Environment of every compose call: the socket's group for the proxy, unless the user set it. */
function composeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (!process.env.DOCKER_SOCKET_GID) {
    const stat = spawnSync('stat', ['-c', '%g', '/var/run/docker.sock'], { encoding: 'utf8' });
    if (stat.status === 0) env.DOCKER_SOCKET_GID = stat.stdout.trim();
  }
  return env;
}

export function compose(
  args: string[],
  options: { capture?: boolean; logFile?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const argv = [...composeBinary(), '-p', PROJECT, '--env-file', ENV_FILE, ...args];
  return run(argv, { ...options, env: { ...composeEnv(), ...options.env } });
}

export async function docker(args: string[]): Promise<string> {
  const result = await run(['docker', ...args], { capture: true });
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

// ------------------------------------------------------------------------------------ images

/** Services that build an image: the Node base, then the task image FROM it, then the others. */
export const BUILDS: { service: string; image: string; profile?: string }[] = [
  { service: 'node-base', image: 'population-pipeline-node:20.20.2', profile: 'build' },
  { service: 'api', image: TASK_IMAGE },
  { service: 'airflow-init', image: 'population-pipeline-airflow:3.3.2' },
  { service: 'kafka', image: 'population-pipeline-kafka:4.1.1' },
  { service: 'namenode', image: 'population-pipeline-hadoop:3.4.1' },
  { service: 'postgres', image: 'population-pipeline-postgres:15' },
  { service: 'docker-socket-proxy', image: 'population-pipeline-socket-proxy:2.6' },
  { service: 'prometheus', image: 'population-pipeline-prometheus:2.42' },
  { service: 'pushgateway', image: 'population-pipeline-pushgateway:1.5' },
];

export interface BuildTime {
  image: string;
  seconds: number;
  cached: boolean;
  mb: number;
}
const BUILD_TIMES = path.join(STATE_DIR, 'build-times.json');

export function readBuildTimes(): Record<string, BuildTime> {
  try {
    return JSON.parse(readFileSync(BUILD_TIMES, 'utf8')) as Record<string, BuildTime>;
  } catch {
    return {};
  }
}

/**
 * Builds every image, `parallel` at a time, the task image after its Node base; each build logs to
 * var/compose/build-<service>.log. A build that only hit the cache keeps its first build's seconds.
 */
export async function buildImages(parallel = 3): Promise<Record<string, BuildTime>> {
  mkdirSync(STATE_DIR, { recursive: true });
  const times = readBuildTimes();
  const one = async ({ service, image, profile }: (typeof BUILDS)[number]) => {
    const logFile = path.join(STATE_DIR, `build-${service}.log`);
    const started = Date.now();
    const args = [...(profile ? ['--profile', profile] : []), 'build', service];
    const result = await compose(args, { logFile });
    if (result.code !== 0) {
      const tail = (result.stdout + result.stderr).trim().split('\n').slice(-25).join('\n');
      throw new Error(`building ${service} (${image}) failed; ${logFile} ends with:\n${tail}`);
    }
    const seconds = (Date.now() - started) / 1000;
    const output = result.stdout + result.stderr;
    const steps = (output.match(/^Step \d+\/\d+/gm) ?? []).length;
    const cachedSteps = (output.match(/Using cache/g) ?? []).length;
    // Classic builder: every step but FROM (and ARG before it) reports "Using cache" on a cache hit.
    const cached =
      steps > 0 && cachedSteps >= steps - (output.match(/^Step \d+\/\d+ : (FROM|ARG)/gm) ?? []).length;
    const size = Number((await docker(['image', 'inspect', '-f', '{{.Size}}', image])).trim());
    const previous = times[service];
    times[service] = {
      image,
      seconds: cached && previous ? previous.seconds : Math.round(seconds),
      cached,
      mb: Math.round(size / 1e6),
    };
    log(
      `built ${image} in ${Math.round(seconds)}s${cached ? ' (cached)' : ''}, ${Math.round(size / 1e6)} MB`,
    );
    writeFileSync(BUILD_TIMES, JSON.stringify(times, null, 2));
  };
  // Lane 1 builds the Node base, then the task image FROM it; the other lanes build the rest.
  const [base, task, ...rest] = BUILDS;
  const queue = [...rest];
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await one(next);
  };
  // Every lane finishes (no build left running behind a failure) before the first failure is thrown.
  const lanes = await Promise.allSettled([
    one(base!).then(() => one(task!)),
    ...Array.from({ length: Math.max(1, parallel - 1) }, lane),
  ]);
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
  return times;
}

// ---------------------------------------------------------------------------------- services

export interface ServiceState {
  service: string;
  container: string;
  image: string;
  status: string; // running, exited, ...
  health: string; // healthy, starting, unhealthy, or '' without a healthcheck
  exitCode: number;
}

/** Every container of the project (also one-shot ones that exited), by compose's labels. */
export async function serviceStates(): Promise<ServiceState[]> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`]))
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  const format =
    '{{index .Config.Labels "com.docker.compose.service"}}|{{.Name}}|{{.Config.Image}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}';
  // A container may go between `ps` and `inspect` (compose recreating it): inspect prints the others.
  const inspected = await run(['docker', 'inspect', '-f', format, ...ids], { capture: true });
  return inspected.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [service = '', container = '', image = '', status = '', health = '', exitCode = '0'] =
        line.split('|');
      return {
        service,
        container: container.replace(/^\//, ''),
        image,
        status,
        health,
        exitCode: Number(exitCode),
      };
    });
}

export const ONE_SHOT = new Set(['hdfs-init', 'airflow-init']);

/** Ready: a one-shot job that exited 0, or a service running and healthy (or without a healthcheck). */
export const isReady = (s: ServiceState): boolean =>
  ONE_SHOT.has(s.service)
    ? s.status === 'exited' && s.exitCode === 0
    : s.status === 'running' && (s.health === '' || s.health === 'healthy');

/** The services `up` starts: those of docker-compose.yml without a profile. */
export function defaultServices(): string[] {
  const file = parse(readFileSync(path.join(REPO_DIR, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { profiles?: string[] }>;
  };
  return Object.entries(file.services)
    .filter(([, s]) => !s.profiles?.length)
    .map(([name]) => name);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
