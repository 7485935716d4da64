// npm run transform-hdfs -- [--date D] [--raw-dir DIR] [--out-dir DIR]
// Thin: parses flags, builds the config, wires HDFS/logging/metrics and calls runTransform.
import { Command } from 'commander';
import { runMain } from '../../lib/cli.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { createLogger } from '../../lib/log.ts';
import { recordBatchRun } from '../../lib/metrics.ts';
import { parseFlags, taskConfig, taskHelp } from '../../lib/task.ts';
import { createTransformMetrics } from './metrics.ts';
import { runTransform } from './run.ts';

interface Flags {
  date?: string;
  rawDir?: string;
  outDir?: string;
  hdfsUrl?: string;
}

const program = new Command('transform-hdfs')
  .description(
    'Clean the income, health-insurance and self-employment CSVs of HDFS <raw-dir>, inner-join them on Id and write <out-dir>/date=D/{all_data_joined.csv,rejects.csv,columns.json} and <out-dir>/all_data_joined.csv atomically.',
  )
  .option('--date <YYYY-MM-DD>', 'logical date of the run (env RUN_DATE, default today)')
  .option('--raw-dir <dir>', 'HDFS directory of the source CSVs (env HDFS_RAW_DIR, default /data/raw)')
  .option(
    '--out-dir <dir>',
    'HDFS directory of the outputs (env HDFS_PROCESSED_DIR, default /data/processed)',
  )
  .option(
    '--hdfs-url <url>',
    'WebHDFS base URL of the NameNode (env HDFS_URL, default http://127.0.0.1:9870)',
  )
  .addHelpText(
    'after',
    taskHelp(
      [
        'HDFS_URL',
        'HDFS_USER',
        'HDFS_RAW_DIR',
        'HDFS_PROCESSED_DIR',
        'RUN_DATE',
        'PUSHGATEWAY_URL',
        'LOG_LEVEL',
      ],
      'nothing is replaced',
    ),
  )
  .showHelpAfterError();

async function main(): Promise<void> {
  const flags = parseFlags<Flags>(program);
  const config = taskConfig(flags.date, {
    HDFS_RAW_DIR: flags.rawDir,
    HDFS_PROCESSED_DIR: flags.outDir,
    HDFS_URL: flags.hdfsUrl,
  });
  const log = createLogger('transform-hdfs', config.logLevel);
  const metrics = createTransformMetrics();
  const started = Date.now();
  const summary = await recordBatchRun(metrics, { job: 'transform_hdfs', config, log }, async () => {
    try {
      return await runTransform(
        {
          date: config.date,
          rawDir: config.hdfs.rawDir,
          outDir: config.hdfs.processedDir,
          progressIntervalMs: 5000,
        },
        { hdfs: HdfsClient.fromConfig(config.hdfs), log, metrics },
      );
    } finally {
      metrics.duration.set((Date.now() - started) / 1000);
    }
  });
  log.info(summary, 'transform done');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

runMain('transform-hdfs', main);
