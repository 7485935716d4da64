// npm run live -- [--date D] [--data DIR] [--interval 10s] [--cube-interval 30s] [--api-port P | --no-api]
// The real-time mode of the original design against the local stack: the producer resends
// total-population.csv every --interval, the streaming consumer enriches and stores it, the cube
// follower rebuilds the cubes when the consumer committed, the API serves them. One process tree
// (scripts/live/supervisor.ts); Ctrl-C stops all of it cleanly; a status line every few seconds.
import { Command, InvalidArgumentError } from 'commander';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInterval, runMain } from '../../lib/cli.ts';
import { loadConfig, parseDate, today, type Config } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { fetchText } from '../../lib/http.ts';
import { SOURCES } from '../../lib/sources.ts';
import { openReadonly } from '../../lib/sqlite.ts';
import { uploadSources } from '../pipeline/upload.ts';
import { formatStatus, parseMetrics, producedFromLogLine, type LiveSnapshot } from './status.ts';
import { Supervisor, type ServiceSpec } from './supervisor.ts';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Flags {
  date?: string;
  data: string;
  upload?: boolean;
  interval: string;
  cubeInterval: string;
  api: boolean;
  apiPort?: number;
  consumerMetricsPort: number;
  cubeMetricsPort: number;
  statusEvery: string;
}

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number');
  return n;
};

const program = new Command('live')
  .description(
    'Run the live pipeline against the local stack: producer --follow, consumer --follow, compute-cube --follow and the API, restarted if one dies, stopped together by Ctrl-C.',
  )
  .option('--date <YYYY-MM-DD>', 'logical date of the messages and cubes (env RUN_DATE, default today)')
  .option(
    '--data <dir>',
    'sources uploaded to HDFS_RAW_DIR when total-population.csv is not there',
    'data/sample',
  )
  .option('--upload', 'upload --data to HDFS even when the sources are there')
  .option('--interval <duration>', "producer: time between two sends of the file (the seed's 10 s)", '10s')
  .option('--cube-interval <duration>', 'compute-cube: time between two checks for new data', '30s')
  .option('--no-api', 'do not start the API (one already serves CUBE_DB)')
  .option('--api-port <port>', 'port of the API (env API_PORT, default 8000)', port)
  .option('--consumer-metrics-port <port>', '/metrics of the consumer follower', port, 9464)
  .option('--cube-metrics-port <port>', '/metrics of the cube follower', port, 9465)
  .option('--status-every <duration>', 'time between two status lines', '5s')
  .showHelpAfterError();

function say(message: string): void {
  process.stderr.write(`[live] ${message}\n`);
}

/** The sources and a joined file the consumer can enrich from: uploaded / computed when missing. */
async function prepareInputs(config: Config, flags: Flags, env: NodeJS.ProcessEnv): Promise<void> {
  const hdfs = HdfsClient.fromConfig(config.hdfs);
  await hdfs.ping();
  const population = `${config.hdfs.rawDir}/${SOURCES.population.file}`;
  if (flags.upload || !(await hdfs.exists(population))) {
    await uploadSources(config, path.resolve(flags.data), say);
  }
  // The consumer enriches a date without its own joined file from the latest one; with none at
  // all every message would be a dead letter, so transform_hdfs runs once first.
  const latest = `${config.hdfs.processedDir}/all_data_joined.csv`;
  if (!(await hdfs.exists(latest))) {
    say(`no ${latest} yet: running transform-hdfs for ${config.date} once`);
    const code = await runOnce(
      ['--import', 'tsx', 'tasks/transform-hdfs/cli.ts', '--date', config.date],
      env,
    );
    if (code !== 0) throw new Error(`transform-hdfs failed (exit ${code})`);
  }
}

function runOnce(args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_DIR,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('close', resolve);
  });
}

/** The last build of the date in the cube database the API serves. */
function servedBuild(cubeDbPath: string, date: string): { builtAt?: number; newestEventAt?: number } {
  if (!fs.existsSync(cubeDbPath)) return {};
  try {
    const db = openReadonly(cubeDbPath);
    try {
      const row = db
        .prepare(
          'SELECT built_at AS builtAt, newest_event_at AS newest FROM cube_runs WHERE date = ? ORDER BY built_at DESC LIMIT 1',
        )
        .get(date) as { builtAt: string; newest: string | null } | undefined;
      if (!row) return {};
      return {
        builtAt: Date.parse(row.builtAt),
        ...(row.newest ? { newestEventAt: Date.parse(row.newest) } : {}),
      };
    } finally {
      db.close();
    }
  } catch {
    return {}; // swapped while opening, or built by a version without newest_event_at
  }
}

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<Flags>();
  const date = parseDate(flags.date ?? process.env.RUN_DATE ?? today());
  const config = loadConfig({ ...process.env, RUN_DATE: date });
  const apiPort = flags.apiPort ?? config.api.port;
  const statusMs = parseInterval(flags.statusEvery);
  parseInterval(flags.interval);
  parseInterval(flags.cubeInterval);
  const logLevel = process.env.LOG_LEVEL ?? 'info';
  const env: NodeJS.ProcessEnv = { ...process.env, RUN_DATE: date, LOG_LEVEL: logLevel };

  await prepareInputs(config, flags, env);

  const liveDir = path.join(config.varDir, 'live');
  const supervisor = new Supervisor({
    cwd: REPO_DIR,
    logDir: liveDir,
    pidFile: path.join(liveDir, 'pids.json'),
    say,
  });
  let produced: number | undefined;
  let producedBefore = 0;
  const task = (name: string, file: string, args: string[], extra: NodeJS.ProcessEnv = {}): ServiceSpec => ({
    name,
    args: ['--import', 'tsx', file, ...args],
    env: { ...env, ...extra },
  });
  const services: ServiceSpec[] = [
    {
      ...task(
        'producer',
        'tasks/producer/cli.ts',
        ['--follow', '--interval', flags.interval, '--date', date],
        {
          // Its `loop sent` lines feed the status line.
          LOG_LEVEL: ['warn', 'error', 'fatal', 'silent'].includes(logLevel) ? 'info' : logLevel,
        },
      ),
      onLine: (line) => {
        const total = producedFromLogLine(line);
        // A restarted producer counts from 0 again: keep the total monotonic.
        if (total === undefined) return;
        if (produced !== undefined && total + producedBefore < produced) producedBefore = produced;
        produced = producedBefore + total;
      },
    },
    task('consumer', 'tasks/consumer/cli.ts', [
      '--follow',
      '--date',
      date,
      '--metrics-port',
      String(flags.consumerMetricsPort),
    ]),
    task('compute-cube', 'tasks/compute-cube/cli.ts', [
      '--follow',
      '--date',
      date,
      '--interval',
      flags.cubeInterval,
      '--metrics-port',
      String(flags.cubeMetricsPort),
    ]),
  ];
  if (flags.api) services.push(task('api', 'api/server.ts', [], { API_PORT: String(apiPort) }));
  for (const spec of services) supervisor.start(spec);
  say(
    `date ${date}; logs and pids in ${liveDir}; consumer /metrics :${flags.consumerMetricsPort}, cubes /metrics :${flags.cubeMetricsPort}${flags.api ? `, API http://127.0.0.1:${apiPort}/api/income` : ''}; Ctrl-C stops everything`,
  );

  let before: LiveSnapshot | undefined;
  const snapshot = async (): Promise<LiveSnapshot> => {
    const [consumerText, cubeText, ready] = await Promise.all([
      fetchText(`http://127.0.0.1:${flags.consumerMetricsPort}/metrics`, 2000),
      fetchText(`http://127.0.0.1:${flags.cubeMetricsPort}/metrics`, 2000),
      flags.api ? fetchText(`http://127.0.0.1:${apiPort}/readyz`, 2000) : Promise.resolve(undefined),
    ]);
    const consumer = consumerText === undefined ? undefined : parseMetrics(consumerText);
    const totalSeconds = cubeText
      ? Number(/^compute_cube_duration_seconds\{[^}]*phase="total"[^}]*\} (\S+)$/m.exec(cubeText)?.[1])
      : Number.NaN;
    const served = servedBuild(config.sqlite.cubeDbPath, date);
    return {
      at: Date.now(),
      ...(produced !== undefined ? { produced } : {}),
      ...(consumer
        ? {
            consumed:
              (consumer.get('processed_messages_total') ?? 0) +
              (consumer.get('processing_errors_total') ?? 0),
            lag: consumer.get('consumer_lag') ?? 0,
          }
        : {}),
      ...(served.builtAt !== undefined ? { lastBuildAt: served.builtAt } : {}),
      ...(Number.isFinite(totalSeconds) && totalSeconds > 0 ? { lastBuildSeconds: totalSeconds } : {}),
      ...(served.newestEventAt !== undefined ? { servedNewestEventAt: served.newestEventAt } : {}),
      ...(flags.api ? { apiReady: ready !== undefined } : {}),
    };
  };
  const statusTimer = setInterval(() => {
    void snapshot().then((now) => {
      process.stdout.write(
        `[live ${new Date(now.at).toISOString().slice(11, 19)}] ${formatStatus(now, before)}\n`,
      );
      before = now;
    });
  }, statusMs);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(statusTimer);
  say('stopping (each follower finishes its batch or build in flight)');
  const exits = await supervisor.stop();
  say(`stopped: ${exits.map((e) => `${e.name} ${e.signal ?? `exit ${e.code}`}`).join(', ')}`);
  return exits.every((e) => e.code === 0) ? 0 : 1;
}

runMain('live', main);
