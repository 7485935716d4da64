// npm run compute-cube -- [--date D] [--db FILE] [--cube-db FILE]
// Thin: parses flags, builds the config, calls runComputeCube, pushes metrics.
import { Command } from 'commander';
import { runMain } from '../../lib/cli.ts';
import { loadConfig, parseDate } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { recordBatchRun } from '../../lib/metrics.ts';
import { createCubeMetrics } from './metrics.ts';
import { runComputeCube } from './run.ts';

interface Flags {
  date?: string;
  db?: string;
  cubeDb?: string;
}

const program = new Command('compute-cube')
  .description(
    "Build the health-insurance, income and self-employment cubes of one date from donnees_formatees_latest (base_de_donnees.db) into cube_analytics.db: a new file is built beside the old one and renamed over it; the date's rows are replaced, other dates kept.",
  )
  .option('--date <YYYY-MM-DD>', 'logical date of the run (env RUN_DATE, default today)')
  .option('--db <file>', 'input SQLite database (env DB_PATH, default var/base_de_donnees.db)')
  .option('--cube-db <file>', 'output cube database (env CUBE_DB, default var/cube_analytics.db)')
  .addHelpText(
    'after',
    '\nEnvironment: RUN_DATE, DB_PATH, CUBE_DB, VAR_DIR, PUSHGATEWAY_URL, LOG_LEVEL.\nExit code 0 on success; 1 with a one-line error on stderr otherwise (cube_analytics.db unchanged).',
  )
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<Flags>();
  const config = loadConfig({
    ...process.env,
    ...(flags.date ? { RUN_DATE: parseDate(flags.date) } : {}),
    ...(flags.db ? { DB_PATH: flags.db } : {}),
    ...(flags.cubeDb ? { CUBE_DB: flags.cubeDb } : {}),
  });
  const log = createLogger('compute-cube', config.logLevel);
  const metrics = createCubeMetrics();
  const summary = await recordBatchRun(metrics, { job: 'compute_cube', config, log }, () =>
    runComputeCube(
      { date: config.date, dbPath: config.sqlite.dbPath, cubeDbPath: config.sqlite.cubeDbPath },
      { log, metrics },
    ),
  );
  log.info(summary, 'compute-cube done');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

runMain('compute-cube', main);
