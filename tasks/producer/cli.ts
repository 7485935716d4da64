// npm run producer -- [--file F | --hdfs-file P] [--date D] [--loops N | --follow --interval 10s]
// Thin: parses flags, builds the config, reads and cleans the CSV, calls runProducer.
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { parseInterval, positiveInt, runMain } from '../../lib/cli.ts';
import { loadConfig, parseDate } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { createKafka, ensureTopic, toBrokerError, topicPartitionCount } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { pushMetrics } from '../../lib/metrics.ts';
import { SOURCES } from '../../lib/sources.ts';
import { createProducerMetrics } from './metrics.ts';
import { readPopulationRows } from './rows.ts';
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
  // Small batches: kafkajs groups a batch by partition in quadratic time (each message copies the
  // partition's array so far), which dominated 20,000-message batches.
  .option('--batch-size <n>', 'messages per sendBatch call (per sender)', positiveInt, 1_000)
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

let brokers: readonly string[] = [];

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<Flags>();
  const intervalMs = parseInterval(flags.interval);
  const config = loadConfig({
    ...process.env,
    ...(flags.date ? { RUN_DATE: parseDate(flags.date) } : {}),
    ...(flags.topic ? { KAFKA_TOPIC: flags.topic } : {}),
  });
  brokers = config.kafka.brokers;
  const log = createLogger('producer', config.logLevel);
  const kafka = createKafka(config.kafka, config.logLevel === 'debug' ? { logger: log } : {});

  // Read and clean first: a missing or malformed file fails before anything is sent.
  const hdfs = flags.file ? undefined : HdfsClient.fromConfig(config.hdfs);
  const source = flags.file
    ? path.resolve(flags.file)
    : (flags.hdfsFile ?? `${config.hdfs.rawDir}/${SOURCES.population.file}`);
  /** The source's version (size, modification time): a --follow loop re-reads it only when it moved. */
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
  const input = open();
  const reread = async () => {
    const now = await versionOf();
    if (now === undefined) throw new Error(`${source} is gone`);
    if (now === version) return null;
    const rows = await readPopulationRows(open(), source);
    version = now;
    return rows;
  };
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
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    process.once('SIGTERM', () => stop());
    process.once('SIGINT', () => stop());

    const bar =
      process.stderr.isTTY && !flags.follow
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
    const push = async () => {
      const err = await pushMetrics(metrics.registry, config.metrics.pushgatewayUrl, 'producer', config.date);
      if (err) log.warn({ err: err.message }, 'metrics push failed');
    };

    const summary = await runProducer(
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
        ensureTopic: async (topic, partitions) => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            await ensureTopic(admin, topic, partitions);
            return await topicPartitionCount(admin, topic);
          } finally {
            await admin.disconnect();
          }
        },
        metrics,
        log,
        stopSignal,
        onProgress,
        ...(flags.follow ? { onLoopDone: push, reread } : {}),
      },
    );
    bar?.stop();
    await push();
    log.info({ ...summary, source }, 'producer done');
    process.stdout.write(`${JSON.stringify({ ...summary, source })}\n`);
  } finally {
    // Each producer's batch in flight is acknowledged before it disconnects.
    await senders.close();
  }
}

runMain('producer', main, (err) => toBrokerError(err, brokers));
