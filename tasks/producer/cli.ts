// npm run producer -- [--file F | --hdfs-file P] [--date D] [--loops N | --follow --interval 10s]
// Thin: parses flags, builds the config, reads and cleans the CSV, calls runProducer.
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { parseInterval, positiveInt, runMain } from '../../lib/cli.ts';
import type { Config } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import {
  createKafka,
  ensureTopic,
  topicPartitionCount,
  withAdmin,
  withBrokerErrors,
} from '../../lib/kafka.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { markSucceeded, pushAndReport, recordBatchRun } from '../../lib/metrics.ts';
import { SOURCES } from '../../lib/sources.ts';
import { parseFlags, stopSignal, taskConfig } from '../../lib/task.ts';
import { createProducerMetrics } from './metrics.ts';
import { readPopulationRows, type PopulationRows } from './rows.ts';
import type { CompressionName } from './compression.ts';
import { runProducer } from './run.ts';
import { startSenders } from './senders.ts';

interface Flags {
  file?: string;
  hdfsFile?: string;
  date?: string;
  loops: number;
  follow?: boolean;
  interval: string;
  topic?: string;
  batchSize: number;
  compression: CompressionName;
  workers: number;
}

const program = new Command('producer')
  .description(
    'Send the rows of total-population.csv to Kafka topic population_data (JSON keyed by Id, with an event id, the logical date and the loop number).',
  )
  .addOption(new Option('--file <path>', 'local total-population.csv').conflicts('hdfsFile'))
  .option(
    '--hdfs-file <path>',
    `HDFS path of total-population.csv (default: <HDFS_RAW_DIR>/${SOURCES.population.file} when --file is absent)`,
  )
  .option('--date <YYYY-MM-DD>', 'logical date written in every message (env RUN_DATE)')
  .option('--loops <n>', 'bounded mode: send the file n times', positiveInt, 1)
  .option('--follow', 'resend the file forever, one loop per --interval, until SIGTERM/SIGINT')
  .option('--interval <duration>', 'time between loop starts in --follow mode (10s, 500ms, 2m)', '10s')
  .option('--topic <name>', 'topic (env KAFKA_TOPIC)')
  // A batch stays alive in a sender's 8 MB young generation until acknowledged: 400 used ~9 % less
  // CPU than 1,000 at the same speed, and 2,000-3,000 were slower.
  .option('--batch-size <n>', 'messages per sendBatch call (per sender)', positiveInt, 400)
  .addOption(
    new Option('--compression <codec>', 'message compression').choices(['none', 'gzip']).default('gzip'),
  )
  .option(
    '--workers <n>',
    'parallel senders (worker threads), each with its own idempotent producer and a share of the partitions; at most one per partition',
    positiveInt,
    3,
  )
  .showHelpAfterError();

/**
 * The population file, local (--file) or on HDFS: opened once, and re-read by a --follow loop only
 * when its version (size, modification time) moved.
 */
async function openPopulationSource(flags: Flags, config: Config) {
  const hdfs = flags.file ? undefined : HdfsClient.fromConfig(config.hdfs);
  const source = flags.file
    ? path.resolve(flags.file)
    : (flags.hdfsFile ?? `${config.hdfs.rawDir}/${SOURCES.population.file}`);
  const versionOf = async (): Promise<string | undefined> => {
    if (!hdfs) {
      if (!fs.existsSync(source)) return undefined;
      const st = fs.statSync(source);
      return `${st.size}:${st.mtimeMs}`;
    }
    const st = await hdfs.stat(source);
    return st === undefined ? undefined : `${st.length}:${st.modificationTime}`;
  };
  let version = await versionOf();
  if (version === undefined) {
    throw new Error(hdfs ? `HDFS file not found: ${source}` : `input file not found: ${source}`);
  }
  const open = (): AsyncIterable<Buffer | string> =>
    hdfs ? hdfs.readStream(source) : fs.createReadStream(source);
  const reread = async (): Promise<PopulationRows | null> => {
    const now = await versionOf();
    if (now === undefined) throw new Error(`${source} is gone`);
    if (now === version) return null;
    const rows = await readPopulationRows(open(), source);
    version = now;
    return rows;
  };
  return { source, input: open(), reread };
}

/** A progress bar on a terminal (bounded runs), else a log line every 5 s. */
function progressReporter(log: Logger, follow: boolean) {
  const bar =
    process.stderr.isTTY && !follow
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: 'producer [{bar}] {value}/{total} messages {eta}s left' },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let lastLine = Date.now();
  let barStarted = false;
  const onProgress = (sent: number, total: number) => {
    if (bar) {
      if (!barStarted) bar.start(total, 0);
      barStarted = true;
      bar.update(sent);
    } else if (Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      log.info({ sent, total: total || undefined }, 'progress');
    }
  };
  return { onProgress, stop: () => bar?.stop() };
}

async function main(): Promise<void> {
  const flags = parseFlags<Flags>(program);
  const intervalMs = parseInterval(flags.interval);
  const config = taskConfig(flags.date, { KAFKA_TOPIC: flags.topic });
  await withBrokerErrors(config.kafka.brokers, () => produce(flags, config, intervalMs));
}

async function produce(flags: Flags, config: Config, intervalMs: number): Promise<void> {
  const log = createLogger('producer', config.logLevel);
  const kafka = createKafka(config.kafka, config.logLevel === 'debug' ? { logger: log } : {});
  // Read and clean first: a missing or malformed file fails before anything is sent.
  const { source, input, reread } = await openPopulationSource(flags, config);
  // The sender threads load and connect while the file is read and cleaned.
  const senders = startSenders(flags.workers, {
    kafka: config.kafka,
    logLevel: config.logLevel,
    topic: config.kafka.topic,
    date: config.date,
    batchSize: flags.batchSize,
    compression: flags.compression,
  });
  try {
    const rows = await readPopulationRows(input, source);
    const metrics = createProducerMetrics({ task: 'producer' });
    const stopped = stopSignal();
    const progress = progressReporter(log, flags.follow === true);
    const push = { job: 'producer', config, log };
    // --follow: each loop sent is a success, pushed at once (the run itself may last for days).
    const onLoopDone = async () => {
      markSucceeded(metrics);
      await pushAndReport(metrics.registry, push);
    };
    const summary = await recordBatchRun(metrics, push, () =>
      runProducer(
        rows,
        {
          topic: config.kafka.topic,
          partitions: config.kafka.partitions,
          date: config.date,
          loops: flags.loops,
          follow: flags.follow === true,
          intervalMs,
        },
        {
          senders,
          ensureTopic: (topic, partitions) =>
            withAdmin(kafka, async (admin) => {
              await ensureTopic(admin, topic, partitions);
              return topicPartitionCount(admin, topic);
            }),
          metrics,
          log,
          stopSignal: stopped,
          onProgress: progress.onProgress,
          ...(flags.follow ? { onLoopDone, reread } : {}),
        },
      ),
    );
    progress.stop();
    log.info({ ...summary, source }, 'producer done');
    process.stdout.write(`${JSON.stringify({ ...summary, source })}\n`);
  } finally {
    // Each producer's batch in flight is acknowledged before it disconnects.
    await senders.close();
  }
}

runMain('producer', main);
