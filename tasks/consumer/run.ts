// The consumer's I/O edge: Kafka in (eachBatch, no auto-commit), SQLite out (one transaction per
// batch holding the rows and the next offset), dead letters to population_data.dlq.
//
// Exactly once: the SQLite `kafka_offsets` row is the only truth about progress. On (re)assignment a
// partition's position is read from SQLite and the consumer seeks there; each batch commits with a
// compare-and-set on that stored offset, so a batch of a partition that was revoked and taken over by
// another group member writes nothing. Kafka's own committed offsets are written afterwards, only so
// that lag monitors (kafka-consumer-groups, exporters) see progress; they are never read back.
//
// Dead letters: a batch's DLQ records are produced (acks=all, awaited) BEFORE the SQLite transaction
// that moves the offset past them. A crash between the two re-delivers the batch and re-sends its
// dead letters: the DLQ is at-least-once (records are keyed `topic:partition:offset`, so duplicates
// are recognisable), while the `dead_letters` table, written in the batch transaction, is exactly-once.
// The other order (commit, then produce) could lose a dead letter, which is worse.
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../../lib/log.ts';
import { finishBatch, parseBatch, reachedEndOffsets, remainingMessages, type RawMessage } from './batch.ts';
import type { ConsumerMetrics } from './metrics.ts';
import type { EventStore } from './store.ts';

export interface ConsumerOptions {
  topic: string;
  dlqTopic: string;
  groupId: string;
  partitions: number;
  /** Logical date of the run: its joined attributes are (re)loaded from HDFS before consuming. */
  date: string;
  /** Long-lived service instead of stopping at the end offsets seen at start. */
  follow: boolean;
  /** End offsets to reach in bounded mode (given by a --workers parent); fetched at start otherwise. */
  endOffsets?: Map<number, { low: number; high: number }>;
  /** Skip the start-up reload of the date's joined attributes (a --workers parent did it). */
  skipJoinedReload?: boolean;
  partitionsConsumedConcurrently: number;
  maxBytesPerPartition: number;
  /** Progress line interval (ms) when stderr is not a TTY. */
  progressIntervalMs: number;
}

/** A joined file's version and its CSV records, header first. */
export interface JoinedRows {
  source: string;
  batches: AsyncIterable<readonly (readonly string[])[]>;
}

export interface ConsumerDeps {
  kafka: Kafka;
  ensureTopic: (topic: string, partitions: number) => Promise<void>;
  store: EventStore;
  metrics: ConsumerMetrics;
  log: Logger;
  /** Rows of all_data_joined for a date (first record = header), or null when the file does not exist. */
  openJoined: (date: string) => Promise<JoinedRows | null>;
  /**
   * Follow mode: the latest all_data_joined (whatever its date), for messages whose date has no file
   * of its own; absent in bounded mode, where such messages are dead letters (missing_joined_file).
   */
  openLatestJoined?: () => Promise<JoinedRows | null>;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: Promise<void>;
}

export interface ConsumerSummary {
  mode: 'bounded' | 'follow';
  topic: string;
  groupId: string;
  stored: number;
  duplicates: number;
  deadLetters: number;
  rejectsByReason: Record<string, number>;
  /** Stored messages enriched from the latest joined file (their date had none of its own). */
  joinedFallback: number;
  staleBatches: number;
  seconds: number;
  messagesPerSecond: number;
  offsets: Record<string, number>;
}

/** A summary with nothing counted yet. */
export function emptySummary(
  mode: ConsumerSummary['mode'],
  topic: string,
  groupId: string,
  seconds = 0,
): ConsumerSummary {
  return {
    mode,
    topic,
    groupId,
    stored: 0,
    duplicates: 0,
    deadLetters: 0,
    rejectsByReason: {},
    joinedFallback: 0,
    staleBatches: 0,
    seconds,
    messagesPerSecond: 0,
    offsets: {},
  };
}

/** How long a missing joined file (or a fallback to the latest one) is kept before asking HDFS again. */
const MISSING_JOINED_RETRY_MS = 60_000;

/** Source recorded in joined_loads for a date enriched from the latest joined file. */
const FALLBACK_PREFIX = 'latest:';

/**
 * Joined-attribute cache: the Ids of each date, loaded once per run from HDFS (or SQLite). With
 * `fallback` (follow mode), a date without a joined file of its own is enriched from the latest
 * joined file (the attributes are annual estimates), stored under that date, and its own file is
 * looked for again every MISSING_JOINED_RETRY_MS.
 */
class JoinedIndex {
  private readonly ids = new Map<string, ReadonlySet<number>>();
  private readonly missingSince = new Map<string, number>();
  private readonly fallbackSince = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly store: EventStore,
    private readonly openJoined: ConsumerDeps['openJoined'],
    private readonly log: Logger,
    private readonly openLatest?: ConsumerDeps['openLatestJoined'],
  ) {}

  lookup = (date: string): ReadonlySet<number> | undefined => this.ids.get(date);

  /** The date's attributes come from the latest joined file (no file of its own yet). */
  isFallback = (date: string): boolean => this.fallbackSince.has(date);

  get hasFallbacks(): boolean {
    return this.fallbackSince.size > 0;
  }

  has(date: string): boolean {
    const fallback = this.fallbackSince.get(date);
    if (fallback !== undefined) return Date.now() - fallback < MISSING_JOINED_RETRY_MS;
    if (this.ids.has(date)) return true;
    const since = this.missingSince.get(date);
    return since !== undefined && Date.now() - since < MISSING_JOINED_RETRY_MS;
  }

  /** Loads a date's joined rows from HDFS into SQLite (replacing that date), once per run. */
  async ensure(date: string, forceReload = false): Promise<void> {
    if (!forceReload && this.has(date)) return;
    let p = this.loading.get(date);
    if (!p) {
      p = this.load(date, forceReload).finally(() => this.loading.delete(date));
      this.loading.set(date, p);
    }
    await p;
  }

  private useStored(date: string): void {
    this.ids.set(date, this.store.joinedIds(date));
    this.missingSince.delete(date);
    if (this.store.joinedSource(date)?.startsWith(FALLBACK_PREFIX)) this.fallbackSince.set(date, Date.now());
    else this.fallbackSince.delete(date);
  }

  private async load(date: string, forceReload: boolean): Promise<void> {
    const stored = this.store.joinedSource(date);
    // Another run (or a --workers parent) already loaded this date from its own file: reuse it
    // unless told to reload. A fallback load is re-checked: the date's own file may exist now.
    if (!forceReload && stored !== undefined && !stored.startsWith(FALLBACK_PREFIX)) {
      this.useStored(date);
      return;
    }
    const started = Date.now();
    let opened = await this.openJoined(date);
    let source = opened?.source;
    if (opened === null && this.openLatest) {
      opened = await this.openLatest();
      source = opened ? `${FALLBACK_PREFIX}${opened.source}` : undefined;
      if (opened && stored !== source) {
        this.log.warn(
          { date, source: opened.source },
          'no all_data_joined for this date: enriching its messages from the latest joined file',
        );
      }
    }
    if (opened === null || source === undefined) {
      if (stored !== undefined) {
        this.useStored(date);
        return;
      }
      this.log.warn({ date }, 'no all_data_joined for this date: its messages go to the dead-letter topic');
      this.missingSince.set(date, Date.now());
      return;
    }
    if (stored === source) {
      // Same file, same version as the last load: the rows in SQLite are already these.
      this.useStored(date);
      this.log.info({ date, source }, 'joined attributes unchanged since the last load');
      return;
    }
    const rows = await this.store.loadJoinedAttributes(date, opened.batches, source);
    this.useStored(date);
    this.log.info({ date, rows, source, ms: Date.now() - started }, 'joined attributes loaded');
  }
}

async function fetchEndOffsets(
  kafka: Kafka,
  topic: string,
): Promise<Map<number, { low: number; high: number }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

export async function runConsumer(opts: ConsumerOptions, deps: ConsumerDeps): Promise<ConsumerSummary> {
  const { kafka, store, metrics, log } = deps;
  const started = process.hrtime.bigint();
  await deps.ensureTopic(opts.topic, opts.partitions);
  await deps.ensureTopic(opts.dlqTopic, opts.partitions);

  const joined = new JoinedIndex(store, deps.openJoined, log, deps.openLatestJoined);
  await joined.ensure(opts.date, !opts.skipJoinedReload);

  const ends = opts.follow ? undefined : (opts.endOffsets ?? (await fetchEndOffsets(kafka, opts.topic)));
  const summary = emptySummary(opts.follow ? 'follow' : 'bounded', opts.topic, opts.groupId);
  const finish = (): ConsumerSummary => {
    summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    summary.messagesPerSecond = Math.round((summary.stored + summary.deadLetters) / summary.seconds);
    summary.offsets = Object.fromEntries(store.storedOffsets(opts.groupId, opts.topic));
    return summary;
  };
  const isDone = (): boolean =>
    ends !== undefined && reachedEndOffsets(store.storedOffsets(opts.groupId, opts.topic), ends);
  if (isDone()) {
    log.info({ topic: opts.topic }, 'nothing to consume: stored offsets already at the end offsets');
    return finish();
  }

  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: opts.maxBytesPerPartition,
    maxBytes: opts.maxBytesPerPartition * Math.max(1, opts.partitions),
    minBytes: 1,
    maxWaitTimeInMs: 250,
    // A killed member is noticed (and its partitions reassigned) within 15 s; a batch must be
    // processed within that time (heartbeats are sent between batches), hence moderate fetch sizes.
    sessionTimeout: 15_000,
    heartbeatInterval: 1_500,
    // Errors are handled here (fatal => exit non-zero); kafkajs must not silently restart.
    retry: { retries: 5 },
  });

  // Position of each assigned partition = next offset to store; reset on every (re)assignment so
  // that it is re-read from SQLite, the only truth.
  const positions = new Map<number, number | null>();
  const seekedOnce = new Set<number>();
  let fatal: Error | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const lastKafkaCommit = new Map<number, number>();

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    positions.clear();
    seekedOnce.clear();
    log.info({ assignment: e.payload.memberAssignment }, 'partitions assigned');
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) {
      fatal = e.payload.error;
      resolveDone();
    }
  });

  const eachBatch = async ({ batch, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> => {
    if (fatal || !isRunning() || isStale() || batch.messages.length === 0) return;
    const t0 = process.hrtime.bigint();
    const partition = batch.partition;
    let expected = positions.get(partition);
    if (expected === undefined) {
      expected = store.storedOffset(opts.groupId, opts.topic, partition);
      positions.set(partition, expected);
      // Kafka may hand us a batch from elsewhere than the SQLite position (its own committed
      // offset, or no seek applied yet): move there and drop this batch, once per assignment.
      const first = Number(batch.messages[0]!.offset);
      const target = expected ?? ends?.get(partition)?.low ?? null;
      if (target !== null && first > target && !seekedOnce.has(partition)) {
        seekedOnce.add(partition);
        consumer.seek({ topic: opts.topic, partition, offset: String(target) });
        return;
      }
    }
    const messages = batch.messages as unknown as RawMessage[];
    const { parsed, firstIndex, dates } = parseBatch(messages, expected);
    if (parsed.length === 0) {
      // Everything here is already stored (re-delivery after a seek): move the fetch position on.
      resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      return;
    }
    for (const date of dates) if (!joined.has(date)) await joined.ensure(date);
    const prepared = finishBatch(opts.topic, partition, messages, firstIndex, parsed, joined.lookup);
    if (prepared.dlqMessages.length > 0) {
      // Before the offsets that skip them are committed: see the file comment.
      await producer.send({ topic: opts.dlqTopic, acks: -1, messages: prepared.dlqMessages });
    }
    // No isStale() check here: if the partition was revoked meanwhile, the compare-and-set below
    // refuses the batch when (and only when) the new owner already moved the offset; otherwise the
    // work is kept. Discarding it on every rebalance livelocks a slow (CPU-starved) consumer.
    const result = store.commitBatchWithOffsets({
      groupId: opts.groupId,
      topic: opts.topic,
      partition,
      expectedOffset: expected,
      nextOffset: prepared.nextOffset!,
      events: prepared.events,
      deadLetters: prepared.deadLetters,
    });
    if (!result.committed) {
      // Another member committed this partition meanwhile: our view is stale. Re-read and seek.
      summary.staleBatches++;
      log.warn(
        { partition, expected, stored: result.storedOffset },
        'stale batch discarded (partition moved on)',
      );
      positions.delete(partition);
      if (result.storedOffset !== null)
        consumer.seek({ topic: opts.topic, partition, offset: String(result.storedOffset) });
      return;
    }
    const next = prepared.nextOffset!;
    positions.set(partition, next);
    resolveOffset(String(next - 1));

    summary.stored += result.inserted;
    if (joined.hasFallbacks) {
      // Counted over the batch's events (a duplicate event id, already stored, is in there too).
      let fallback = 0;
      for (const e of prepared.events) if (joined.isFallback(e.date)) fallback++;
      summary.joinedFallback += fallback;
      metrics.joinedFallback.inc(fallback);
    }
    summary.duplicates += result.duplicates;
    summary.deadLetters += prepared.deadLetters.length;
    metrics.processed.inc(result.inserted);
    if (prepared.deadLetters.length > 0) {
      metrics.errors.inc(prepared.deadLetters.length);
      for (const d of prepared.deadLetters) {
        summary.rejectsByReason[d.reason] = (summary.rejectsByReason[d.reason] ?? 0) + 1;
        metrics.rejects.inc({ reason: d.reason });
      }
    }
    const high = Number(batch.highWatermark);
    metrics.lag.set({ partition: String(partition) }, Math.max(0, high - next));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    metrics.duration.observe(seconds / parsed.length);

    // Courtesy commit to Kafka for lag monitoring, at most once a second per partition.
    const now = Date.now();
    if (now - (lastKafkaCommit.get(partition) ?? 0) > 1000) {
      lastKafkaCommit.set(partition, now);
      consumer.commitOffsets([{ topic: opts.topic, partition, offset: String(next) }]).catch(() => undefined);
    }
    if (isDone()) resolveDone();
  };

  let progressTimer: NodeJS.Timeout | undefined;
  const stopSignalHandled = deps.stopSignal.then(() => resolveDone());
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        try {
          await eachBatch(payload);
        } catch (err) {
          // A failed batch committed nothing: stop and exit non-zero; the next run resumes from SQLite.
          fatal = err instanceof Error ? err : new Error(String(err));
          resolveDone();
          return;
        }
        // Outside the catch: a rebalance surfaces here and kafkajs itself must handle it (rejoin).
        await payload.heartbeat();
      },
    });
    // Bounded mode: also check on a timer, since a partition with nothing new never gets a batch
    // (another group member may be the one finishing it).
    progressTimer = setInterval(() => {
      if (isDone()) resolveDone();
      if (ends) {
        const left = remainingMessages(store.storedOffsets(opts.groupId, opts.topic), ends);
        log.info({ stored: summary.stored, deadLetters: summary.deadLetters, remaining: left }, 'progress');
      } else {
        log.info({ stored: summary.stored, deadLetters: summary.deadLetters }, 'progress');
      }
    }, opts.progressIntervalMs);
    progressTimer.unref();
    const checkTimer = setInterval(() => {
      if (isDone()) resolveDone();
    }, 200);
    checkTimer.unref();
    await done;
    clearInterval(checkTimer);
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    void stopSignalHandled;
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
  if (fatal) throw fatal;
  return finish();
}
