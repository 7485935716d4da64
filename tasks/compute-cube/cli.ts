// npm run compute-cube -- [--date D] [--db FILE] [--cube-db FILE] [--follow [--interval 30s]]
// Thin: parses flags, builds the config, calls runComputeCube once (pushes metrics) or followCubes
// (serves /metrics).
import { Command, InvalidArgumentError } from 'commander';
import { parseInterval, runMain } from '../../lib/cli.ts';
import { today } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { markSucceeded, recordBatchRun, serveMetrics } from '../../lib/metrics.ts';
import { parseFlags, stopSignal, taskConfig, taskHelp } from '../../lib/task.ts';
import { readChangeMarker } from './change-marker.ts';
import { followCubes } from './follow.ts';
import { createCubeFollowMetrics, createCubeMetrics } from './metrics.ts';
import { runComputeCube } from './run.ts';

interface Flags {
  date?: string;
  db?: string;
  cubeDb?: string;
  follow?: boolean;
  interval: string;
  metricsPort?: number;
}

/** Default /metrics port of `--follow` (the streaming consumer's is 9464). */
const FOLLOW_METRICS_PORT = 9465;

const program = new Command('compute-cube')
  .description(
    "Build the health-insurance, income and self-employment cubes of one date from donnees_formatees_latest (base_de_donnees.db) into cube_analytics.db: a new file is built beside the old one and renamed over it; the date's rows are replaced, other dates kept.",
  )
  .option(
    '--date <YYYY-MM-DD>',
    'logical date of the run (env RUN_DATE, default today; with --follow and no date: today, rolling over at midnight UTC)',
  )
  .option('--db <file>', 'input SQLite database (env DB_PATH, default var/base_de_donnees.db)')
  .option('--cube-db <file>', 'output cube database (env CUBE_DB, default var/cube_analytics.db)')
  .option(
    '--follow',
    'live mode: check the input every --interval and rebuild when the consumer committed since the last build, until SIGTERM/SIGINT',
  )
  .option('--interval <duration>', 'time between two checks in --follow mode (30s, 500ms, 2m)', '30s')
  .option(
    '--metrics-port <port>',
    `port of /metrics in --follow mode (env METRICS_PORT, default ${FOLLOW_METRICS_PORT}; 0: none)`,
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number');
      return n;
    },
  )
  .addHelpText(
    'after',
    taskHelp(
      ['RUN_DATE', 'DB_PATH', 'CUBE_DB', 'VAR_DIR', 'PUSHGATEWAY_URL', 'METRICS_PORT', 'LOG_LEVEL'],
      'cube_analytics.db unchanged',
    ),
  )
  .showHelpAfterError();

async function main(): Promise<void> {
  const flags = parseFlags<Flags>(program);
  const intervalMs = parseInterval(flags.interval);
  const config = taskConfig(flags.date, { DB_PATH: flags.db, CUBE_DB: flags.cubeDb });
  const log = createLogger('compute-cube', config.logLevel);
  const paths = { dbPath: config.sqlite.dbPath, cubeDbPath: config.sqlite.cubeDbPath };
  if (flags.follow) {
    const metrics = createCubeFollowMetrics();
    const port = flags.metricsPort ?? (process.env.METRICS_PORT ? config.metrics.port : FOLLOW_METRICS_PORT);
    const server = port > 0 ? await serveMetrics(metrics.registry, port) : undefined;
    const stopped = stopSignal();
    const fixedDate = flags.date || process.env.RUN_DATE ? config.date : undefined;
    log.info(
      { ...paths, date: fixedDate ?? 'today', intervalMs, metricsPort: port },
      'following the consumer',
    );
    try {
      const summary = await followCubes(
        { intervalMs, date: () => fixedDate ?? today() },
        {
          readMarker: (date) => readChangeMarker(paths.dbPath, date),
          build: (date) => {
            const built = runComputeCube({ date, ...paths }, { log, metrics });
            markSucceeded(metrics);
            return built;
          },
          metrics,
          log,
          stopSignal: stopped,
        },
      );
      log.info({ ...summary, lastBuild: summary.lastBuild?.runId ?? null }, 'compute-cube follower stopped');
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } finally {
      server?.close();
    }
    return;
  }
  const metrics = createCubeMetrics();
  const summary = await recordBatchRun(metrics, { job: 'compute_cube', config, log }, () =>
    runComputeCube({ date: config.date, ...paths }, { log, metrics }),
  );
  log.info(summary, 'compute-cube done');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

runMain('compute-cube', main);
