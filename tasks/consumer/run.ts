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

export interface ConsumerDeps {
  kafka: Kafka;
  ensureTopic: (topic: string, partitions: number) => Promise<void>;
  store: EventStore;
  metrics: ConsumerMetrics;
  log: Logger;
  /** Rows of all_data_joined for a date (first record = header), or null when the file does not exist. */
  openJoined: (
    date: string,
  ) => Promise<{ source: string; batches: AsyncIterable<readonly (readonly string[])[]> } | null>;
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
  staleBatches: number;
  seconds: number;
  messagesPerSecond: number;
  offsets: Record<string, number>;
}

/** How long a missing joined file is remembered before trying HDFS again (follow mode). */
const MISSING_JOINED_RETRY_MS = 60_000;

/** Joined-attribute cache: the Ids of each date, loaded once per run from HDFS (or SQLite). */
class JoinedIndex {
  private readonly ids = new Map<string, ReadonlySet<number>>();
  private readonly missingSince = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly store: EventStore,
    private readonly openJoined: ConsumerDeps['openJoined'],
    private readonly log: Logger,
  ) {}

  lookup = (date: string): ReadonlySet<number> | undefined => this.ids.get(date);

  has(date: string): boolean {
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

  private async load(date: string, forceReload: boolean): Promise<void> {
    // Another run (or a --workers parent) already loaded this date: reuse it unless told to reload.
    if (!forceReload && this.store.hasJoinedLoad(date)) {
      this.ids.set(date, this.store.joinedIds(date));
      return;
    }
    const started = Date.now();
    const opened = await this.openJoined(date);
    if (opened === null) {
      if (this.store.hasJoinedLoad(date)) {
        this.ids.set(date, this.store.joinedIds(date));
        return;
      }
      this.log.warn({ date }, 'no all_data_joined for this date: its messages go to the dead-letter topic');
      this.missingSince.set(date, Date.now());
      return;
    }
    if (this.store.joinedSource(date) === opened.source) {
      // Same file, same version as the last load: the rows in SQLite are already these.
      this.ids.set(date, this.store.joinedIds(date));
      this.log.info({ date, source: opened.source }, 'joined attributes unchanged since the last load');
      return;
    }
    const rows = await this.store.loadJoinedAttributes(date, opened.batches, opened.source);
    this.ids.set(date, this.store.joinedIds(date));
    this.missingSince.delete(date);
    this.log.info(
      { date, rows, source: opened.source, ms: Date.now() - started },
      'joined attributes loaded',
    );
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

  const joined = new JoinedIndex(store, deps.openJoined, log);
  await joined.ensure(opts.date, !opts.skipJoinedReload);

  const ends = opts.follow ? undefined : (opts.endOffsets ?? (await fetchEndOffsets(kafka, opts.topic)));
  const summary: ConsumerSummary = {
    mode: opts.follow ? 'follow' : 'bounded',
    topic: opts.topic,
    groupId: opts.groupId,
    stored: 0,
    duplicates: 0,
    deadLetters: 0,
    rejectsByReason: {},
    staleBatches: 0,
    seconds: 0,
    messagesPerSecond: 0,
    offsets: {},
  };
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
