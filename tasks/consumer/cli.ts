// npm run consumer -- [--date D] [--follow] [--workers N] ...
// Thin: parses flags, builds the config, wires Kafka/HDFS/SQLite/metrics and calls runConsumer.
import { Command, InvalidArgumentError } from 'commander';
import { positiveInt, runMain } from '../../lib/cli.ts';
import { loadConfig, parseDate, type Config } from '../../lib/config.ts';
import { createKafka, ensureTopic, toBrokerError } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { pushMetrics, serveMetrics } from '../../lib/metrics.ts';
import { openJoinedSource, openLatestJoinedSource } from './joined-source.ts';
import { LOADER_CACHE_MB, consumerMemoryPlan } from './memory.ts';
import { createConsumerMetrics } from './metrics.ts';
import { runConsumer, type ConsumerSummary } from './run.ts';
import { EventStore } from './store.ts';
import { runWorkers, WORKER_ENV } from './workers.ts';

interface Flags {
  date?: string;
  follow?: boolean;
  workers: number;
  topic?: string;
  group?: string;
  db?: string;
  joinedDir?: string;
  concurrency: number;
  maxBytesPerPartition: number;
  maxMemory: number;
  metricsPort?: number;
}

const program = new Command('consumer')
  .description(
    'Consume population_data into SQLite base_de_donnees.db (donnees_formatees), exactly once: offsets are stored in the same transaction as the rows. Bad messages go to population_data.dlq with a reason.',
  )
  .option(
    '--date <YYYY-MM-DD>',
    'logical date: its all_data_joined is (re)loaded before consuming (env RUN_DATE)',
  )
  .option(
    '--follow',
    'run as a long-lived service with /metrics (default: stop at the end offsets seen at start)',
  )
  .option('--workers <n>', 'consumer processes in one group sharing the partitions', positiveInt, 1)
  .option('--topic <name>', 'topic to consume (env KAFKA_TOPIC)')
  .option('--group <id>', 'consumer group id (env KAFKA_GROUP_ID)')
  .option('--db <file>', 'SQLite database (env DB_PATH)')
  .option('--joined-dir <dir>', 'read <dir>/date=D/all_data_joined.csv locally instead of from HDFS')
  .option('--concurrency <n>', 'partitions processed concurrently per process', positiveInt, 3)
  // Compressed bytes: a gzip fetch decodes to ~6x its size in message objects, held until processed.
  .option('--max-bytes-per-partition <bytes>', 'fetch size per partition', positiveInt, 512 * 1024)
  .option(
    '--max-memory <MB>',
    'memory budget of the whole process tree: sizes each process SQLite cache and caps each forked worker V8 heap (see README)',
    positiveInt,
    600,
  )
  .option(
    '--metrics-port <port>',
    'port of /metrics in --follow mode (env METRICS_PORT, default 9464)',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number');
      return n;
    },
  )
  .showHelpAfterError();

/** The brokers of this run, named in a one-line connection error. */
let brokers: readonly string[] = [];

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<Flags>();
  const memory = consumerMemoryPlan(flags.maxMemory, flags.workers);
  const config: Config = loadConfig({
    ...process.env,
    ...(flags.date ? { RUN_DATE: parseDate(flags.date) } : {}),
    ...(flags.topic
      ? { KAFKA_TOPIC: flags.topic, KAFKA_DLQ_TOPIC: process.env.KAFKA_DLQ_TOPIC ?? `${flags.topic}.dlq` }
      : {}),
    ...(flags.group ? { KAFKA_GROUP_ID: flags.group } : {}),
    ...(flags.db ? { DB_PATH: flags.db } : {}),
  });
  brokers = config.kafka.brokers;
  const isWorker = process.env[WORKER_ENV.index] !== undefined;
  const log = createLogger(
    isWorker ? `consumer-${process.env[WORKER_ENV.index]}` : 'consumer',
    config.logLevel,
  );
  const follow = flags.follow === true;
  const metricsPort = isWorker
    ? config.metrics.port
    : (flags.metricsPort ?? (process.env.METRICS_PORT ? config.metrics.port : 9464));
  const kafka = createKafka(config.kafka, {
    // kafkajs' own lines only at debug: a down broker must give one clear line, not a retry log.
    ...(config.logLevel === 'debug' ? { logger: log } : {}),
    // A long-lived consumer rides out a broker restart; a bounded run fails fast.
    retries: follow ? 10 : 5,
  });
  const withAdmin = async (
    fn: (admin: ReturnType<typeof kafka.admin>) => Promise<unknown>,
  ): Promise<void> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await fn(admin);
    } finally {
      await admin.disconnect();
    }
  };
  const ensureTopicExists = (topic: string, partitions: number) =>
    withAdmin((admin) => ensureTopic(admin, topic, partitions));
  const openJoined = (date: string) => openJoinedSource(config, date, flags.joinedDir);

  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  process.once('SIGTERM', () => stop());
  process.once('SIGINT', () => stop());

  if (flags.workers > 1 && !isWorker) {
    // Parent of N workers: check the broker, load the date's joined rows and fix the end offsets
    // once, then fork the workers (same flags) and add up their summaries.
    await ensureTopicExists(config.kafka.topic, config.kafka.partitions);
    await ensureTopicExists(config.kafka.dlqTopic, config.kafka.partitions);
    const store = new EventStore(config.sqlite.dbPath, { cacheMb: LOADER_CACHE_MB });
    try {
      const opened = await openJoined(config.date);
      if (opened && store.joinedSource(config.date) !== opened.source) {
        await store.loadJoinedAttributes(config.date, opened.batches, opened.source);
      }
    } finally {
      store.close();
    }
    const summary = await runWorkers({
      workers: flags.workers,
      follow,
      kafka,
      topic: config.kafka.topic,
      metricsPort,
      stopSignal,
      log,
      // A small young generation too: batches are short-lived, 4 MB semi-spaces keep them there.
      nodeArgs: [`--max-old-space-size=${memory.heapMb}`, '--max-semi-space-size=4'],
    });
    const metrics = createConsumerMetrics({ task: 'consumer' });
    metrics.processed.inc(summary.stored);
    metrics.errors.inc(summary.deadLetters);
    for (const [reason, n] of Object.entries(summary.rejectsByReason)) metrics.rejects.inc({ reason }, n);
    await reportAndPush(summary, metrics.registry, config, log, follow);
    return;
  }

  const metrics = createConsumerMetrics({ task: 'consumer' });
  // The store is opened only once the broker answered: an unreachable broker leaves no file behind.
  let store: EventStore | undefined;
  const server = follow && metricsPort > 0 ? await serveMetrics(metrics.registry, metricsPort) : undefined;
  try {
    await ensureTopicExists(config.kafka.topic, config.kafka.partitions);
    store = new EventStore(config.sqlite.dbPath, { cacheMb: memory.cacheMb });
    const endOffsets = process.env[WORKER_ENV.endOffsets];
    const summary = await runConsumer(
      {
        topic: config.kafka.topic,
        dlqTopic: config.kafka.dlqTopic,
        groupId: config.kafka.groupId,
        partitions: config.kafka.partitions,
        date: config.date,
        follow,
        ...(endOffsets
          ? { endOffsets: new Map(JSON.parse(endOffsets) as [number, { low: number; high: number }][]) }
          : {}),
        skipJoinedReload: isWorker,
        partitionsConsumedConcurrently: flags.concurrency,
        maxBytesPerPartition: flags.maxBytesPerPartition,
        progressIntervalMs: 5000,
      },
      {
        kafka,
        ensureTopic: ensureTopicExists,
        store,
        metrics,
        log,
        openJoined,
        // A streaming consumer enriches a date without a joined file from the latest one.
        ...(follow ? { openLatestJoined: () => openLatestJoinedSource(config, flags.joinedDir) } : {}),
        stopSignal,
      },
    );
    if (isWorker && process.send) {
      process.send(summary);
      return;
    }
    await reportAndPush(summary, metrics.registry, config, log, follow);
  } finally {
    store?.close();
    server?.close();
  }
}

async function reportAndPush(
  summary: ConsumerSummary,
  registry: Parameters<typeof pushMetrics>[0],
  config: Config,
  log: ReturnType<typeof createLogger>,
  follow: boolean,
): Promise<void> {
  if (!follow) {
    const pushError = await pushMetrics(registry, config.metrics.pushgatewayUrl, 'consumer', config.date);
    if (pushError) log.warn({ err: pushError.message }, 'metrics push failed (data is committed)');
  }
  log.info(summary, 'consumer done');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

runMain('consumer', main, (err) => toBrokerError(err, brokers));
