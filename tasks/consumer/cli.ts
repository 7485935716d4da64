// npm run consumer -- [--date D] [--follow] [--workers N] ...
// Thin: parses flags, builds the config, wires Kafka/HDFS/SQLite/metrics and calls runConsumer.
import { Command, InvalidArgumentError } from 'commander';
import { positiveInt, runMain } from '../../lib/cli.ts';
import type { Config } from '../../lib/config.ts';
import { createKafka, ensureTopic, withAdmin, withBrokerErrors, type Kafka } from '../../lib/kafka.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { recordBatchRun, serveMetrics } from '../../lib/metrics.ts';
import { parseFlags, stopSignal, taskConfig } from '../../lib/task.ts';
import { openJoinedSource, openLatestJoinedSource } from './joined-source.ts';
import { LOADER_CACHE_MB, consumerMemoryPlan, type ConsumerMemoryPlan } from './memory.ts';
import { createConsumerMetrics, type ConsumerMetrics } from './metrics.ts';
import { runConsumer, type ConsumerSummary } from './run.ts';
import { EventStore } from './store.ts';
import { joinedLoadedByParent, runWorkers, WORKER_ENV } from './workers.ts';

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

async function main(): Promise<void> {
  const flags = parseFlags<Flags>(program);
  const config = taskConfig(flags.date, {
    KAFKA_TOPIC: flags.topic,
    KAFKA_DLQ_TOPIC: flags.topic ? (process.env.KAFKA_DLQ_TOPIC ?? `${flags.topic}.dlq`) : undefined,
    KAFKA_GROUP_ID: flags.group,
    DB_PATH: flags.db,
  });
  // A connection failure anywhere reads as one line naming the brokers.
  await withBrokerErrors(config.kafka.brokers, () => {
    const run = consumerRun(flags, config);
    if (process.env[WORKER_ENV.loadJoined] !== undefined) return loadJoined(run);
    return flags.workers > 1 && !run.isWorker ? runParent(run) : runSingle(run);
  });
}

/** What both ways of running (one process, or the parent of workers) are wired with. */
interface ConsumerRun {
  flags: Flags;
  config: Config;
  log: Logger;
  kafka: Kafka;
  follow: boolean;
  isWorker: boolean;
  metricsPort: number;
  metrics: ConsumerMetrics;
  /** The --max-memory budget split between SQLite caches and worker heaps. */
  memory: ConsumerMemoryPlan;
  ensureTopic: (topic: string, partitions: number) => Promise<void>;
  openJoined: (date: string) => ReturnType<typeof openJoinedSource>;
  stopped: Promise<void>;
}

function consumerRun(flags: Flags, config: Config): ConsumerRun {
  const isWorker = process.env[WORKER_ENV.index] !== undefined;
  const log = createLogger(
    isWorker ? `consumer-${process.env[WORKER_ENV.index]}` : 'consumer',
    config.logLevel,
  );
  const follow = flags.follow === true;
  const kafka = createKafka(config.kafka, {
    // kafkajs' own lines only at debug: a down broker must give one clear line, not a retry log.
    ...(config.logLevel === 'debug' ? { logger: log } : {}),
    // A long-lived consumer rides out a broker restart; a bounded run fails fast.
    retries: follow ? 10 : 5,
  });
  return {
    flags,
    config,
    log,
    kafka,
    follow,
    isWorker,
    metricsPort: isWorker
      ? config.metrics.port
      : (flags.metricsPort ?? (process.env.METRICS_PORT ? config.metrics.port : 9464)),
    metrics: createConsumerMetrics({ task: 'consumer' }),
    memory: consumerMemoryPlan(flags.maxMemory, flags.workers),
    ensureTopic: async (topic, partitions) => {
      await withAdmin(kafka, (admin) => ensureTopic(admin, topic, partitions));
    },
    openJoined: (date) => openJoinedSource(config, date, flags.joinedDir),
    stopped: stopSignal(),
  };
}

/**
 * A bounded run records its outcome and pushes its metrics (job consumer); a --follow run serves
 * them on /metrics instead.
 */
function recorded(run: ConsumerRun, work: () => Promise<ConsumerSummary>): Promise<ConsumerSummary> {
  if (run.follow) return work();
  return recordBatchRun(run.metrics, { job: 'consumer', config: run.config, log: run.log }, work);
}

function report(run: ConsumerRun, summary: ConsumerSummary): void {
  run.log.info(summary, 'consumer done');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

/**
 * Parent of N workers: check the broker, fix the end offsets once, fork the joined loader child and
 * the workers (same flags), and add up the workers' summaries.
 */
async function runParent(run: ConsumerRun): Promise<void> {
  const { config, metrics } = run;
  const summary = await recorded(run, async () => {
    await run.ensureTopic(config.kafka.topic, config.kafka.partitions);
    await run.ensureTopic(config.kafka.dlqTopic, config.kafka.partitions);
    const total = await runWorkers({
      workers: run.flags.workers,
      follow: run.follow,
      kafka: run.kafka,
      topic: config.kafka.topic,
      metricsPort: run.metricsPort,
      stopSignal: run.stopped,
      log: run.log,
      nodeArgs: [
        `--max-old-space-size=${run.memory.heapMb}`,
        `--max-semi-space-size=${run.memory.semiSpaceMb}`,
      ],
    });
    metrics.processed.inc(total.stored);
    metrics.errors.inc(total.deadLetters);
    for (const [reason, n] of Object.entries(total.rejectsByReason)) metrics.rejects.inc({ reason }, n);
    return total;
  });
  report(run, summary);
}

/** The joined loader child of a --workers parent: (re)loads the date's joined rows if they changed. */
async function loadJoined(run: ConsumerRun): Promise<void> {
  const { config } = run;
  const store = new EventStore(config.sqlite.dbPath, { cacheMb: LOADER_CACHE_MB });
  try {
    const opened = await run.openJoined(config.date);
    if (opened && store.joinedSource(config.date) !== opened.source) {
      const rows = await store.loadJoinedAttributes(config.date, opened.batches, opened.source);
      run.log.info({ date: config.date, rows, source: opened.source }, 'joined attributes loaded');
    }
  } finally {
    store.close();
  }
}

/** One consumer process: alone, or one worker of a parent (which gets its summary). */
async function runSingle(run: ConsumerRun): Promise<void> {
  const { config, flags, follow, metrics } = run;
  // The store is opened only once the broker answered: an unreachable broker leaves no file behind.
  let store: EventStore | undefined;
  const server =
    follow && run.metricsPort > 0 ? await serveMetrics(metrics.registry, run.metricsPort) : undefined;
  const endOffsets = process.env[WORKER_ENV.endOffsets];
  const consume = async () => {
    await run.ensureTopic(config.kafka.topic, config.kafka.partitions);
    store = new EventStore(config.sqlite.dbPath, { cacheMb: run.memory.cacheMb });
    return runConsumer(
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
        ...(run.isWorker ? { joinedLoadedElsewhere: joinedLoadedByParent() } : {}),
        partitionsConsumedConcurrently: flags.concurrency,
        maxBytesPerPartition: flags.maxBytesPerPartition,
        progressIntervalMs: 5000,
      },
      {
        kafka: run.kafka,
        ensureTopic: run.ensureTopic,
        store,
        metrics,
        log: run.log,
        openJoined: run.openJoined,
        // A streaming consumer enriches a date without a joined file from the latest one.
        ...(follow ? { openLatestJoined: () => openLatestJoinedSource(config, flags.joinedDir) } : {}),
        stopSignal: run.stopped,
      },
    );
  };
  try {
    if (run.isWorker && process.send) {
      process.send(await consume());
      return;
    }
    report(run, await recorded(run, consume));
  } finally {
    store?.close();
    server?.close();
  }
}

runMain('consumer', main);
