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
import { fetchEndOffsets, type PartitionRange } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import {
  finishBatch,
  parseBatch,
  reachedEndOffsets,
  remainingMessages,
  type PreparedBatch,
  type RawMessage,
} from './batch.ts';
import { JoinedIndex, type OpenJoined } from './joined-index.ts';
import type { ConsumerMetrics } from './metrics.ts';
import type { CommitResult, EventStore } from './store.ts';

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
  endOffsets?: Map<number, PartitionRange>;
  /**
   * A --workers parent's loader child (re)loads the date's joined attributes: resolves once they are
   * in SQLite. Meanwhile the consumer joins its group and holds its first batch.
   */
  joinedLoadedElsewhere?: Promise<void>;
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
  openJoined: OpenJoined;
  /**
   * Follow mode: the latest all_data_joined (whatever its date), for messages whose date has no file
   * of its own; absent in bounded mode, where such messages are dead letters (missing_joined_file).
   */
  openLatestJoined?: () => ReturnType<OpenJoined>;
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

/** A batch handed back to Kafka's position instead of processed (see BatchHandler.startPosition). */
const SEEKED = Symbol('seeked');

/**
 * The consume loop's state and steps, in the manner of kafkajs' own Runner: where each assigned
 * partition stands (re-read from SQLite on every assignment), what was counted, and how the run ends
 * (the end offsets reached, a stop signal, or a fatal error).
 */
class BatchHandler {
  readonly summary: ConsumerSummary;
  fatal: Error | undefined;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** Next offset to store per assigned partition; cleared on (re)assignment, re-read from SQLite. */
  private readonly positions = new Map<number, number | null>();
  private readonly seekedOnce = new Set<number>();
  private readonly lastKafkaCommit = new Map<number, number>();
  private readonly started = process.hrtime.bigint();
  private joinedLoaded = false;

  constructor(
    private readonly opts: ConsumerOptions,
    private readonly deps: ConsumerDeps,
    private readonly joined: JoinedIndex,
    /** Bounded mode: the end offsets to reach; undefined in --follow mode. */
    private readonly ends: Map<number, PartitionRange> | undefined,
    /** The run date's joined attributes are in SQLite: no batch is processed before. */
    private readonly joinedReady: Promise<void>,
  ) {
    this.summary = emptySummary(opts.follow ? 'follow' : 'bounded', opts.topic, opts.groupId);
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    joinedReady.then(
      () => (this.joinedLoaded = true),
      (err: unknown) => this.stop(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Kafka clients, set once created (the handler is built first to check for nothing to do). */
  private consumer!: Consumer;
  private producer!: Producer;

  attach(consumer: Consumer, producer: Producer): void {
    this.consumer = consumer;
    this.producer = producer;
  }

  onAssignment(): void {
    this.positions.clear();
    this.seekedOnce.clear();
  }

  stop(err?: Error): void {
    if (err) this.fatal ??= err;
    this.resolveDone();
  }

  isDone(): boolean {
    const { store } = this.deps;
    return (
      this.ends !== undefined &&
      reachedEndOffsets(store.storedOffsets(this.opts.groupId, this.opts.topic), this.ends)
    );
  }

  /** kafkajs' eachBatch: a failed batch committed nothing, so the run stops (non-zero) and resumes from SQLite. */
  eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    // Outside the catch, like the heartbeat below.
    await this.untilJoinedLoaded(payload.heartbeat);
    try {
      await this.handle(payload);
    } catch (err) {
      this.stop(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // Outside the catch: a rebalance surfaces here and kafkajs itself must handle it (rejoin).
    await payload.heartbeat();
  };

  /**
   * Holds a batch until the run date's joined attributes are loaded, heartbeating meanwhile: kafkajs sends
   * heartbeats only between batches, and a member silent for the session timeout is dropped.
   */
  private async untilJoinedLoaded(heartbeat: () => Promise<void>): Promise<void> {
    while (!this.joinedLoaded && !this.fatal) {
      await Promise.race([this.joinedReady, new Promise((resolve) => setTimeout(resolve, 1000))]);
      if (!this.joinedLoaded && !this.fatal) await heartbeat();
    }
  }

  private async handle({ batch, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (this.fatal || !isRunning() || isStale() || batch.messages.length === 0) return;
    const t0 = process.hrtime.bigint();
    const { partition } = batch;
    const expected = this.startPosition(partition, Number(batch.messages[0]!.offset));
    if (expected === SEEKED) return;
    const messages = batch.messages as unknown as RawMessage[];
    const { parsed, firstIndex, dates } = parseBatch(messages, expected);
    if (parsed.length === 0) {
      // Everything here is already stored (re-delivery after a seek): move the fetch position on.
      resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      return;
    }
    for (const date of dates) if (!this.joined.has(date)) await this.joined.ensure(date);
    const prepared = finishBatch(
      this.opts.topic,
      partition,
      messages,
      firstIndex,
      parsed,
      this.joined.lookup,
    );
    if (prepared.dlqMessages.length > 0) {
      // Before the offsets that skip them are committed: see the file comment.
      await this.producer.send({ topic: this.opts.dlqTopic, acks: -1, messages: prepared.dlqMessages });
    }
    // No isStale() check here: if the partition was revoked meanwhile, the compare-and-set below
    // refuses the batch when (and only when) the new owner already moved the offset; otherwise the
    // work is kept. Discarding it on every rebalance livelocks a slow (CPU-starved) consumer.
    const next = prepared.nextOffset!;
    const result = this.deps.store.commitBatchWithOffsets({
      groupId: this.opts.groupId,
      topic: this.opts.topic,
      partition,
      expectedOffset: expected,
      nextOffset: next,
      events: prepared.events,
      deadLetters: prepared.deadLetters,
    });
    if (!result.committed) return this.discardStale(partition, expected, result.storedOffset);
    this.positions.set(partition, next);
    resolveOffset(String(next - 1));
    this.record(prepared, result, partition, Number(batch.highWatermark));
    this.deps.metrics.duration.observe(Number(process.hrtime.bigint() - t0) / 1e9 / parsed.length);
    this.courtesyCommit(partition, next);
    if (this.isDone()) this.stop();
  }

  /**
   * The partition's next offset to store, read from SQLite once per assignment. Kafka may hand us a
   * batch from elsewhere (its own committed offset, or no seek applied yet): then seek to the SQLite
   * position and drop this batch, once per assignment.
   */
  private startPosition(partition: number, firstOffset: number): number | null | typeof SEEKED {
    const known = this.positions.get(partition);
    if (known !== undefined) return known;
    const { groupId, topic } = this.opts;
    const expected = this.deps.store.storedOffset(groupId, topic, partition);
    this.positions.set(partition, expected);
    const target = expected ?? this.ends?.get(partition)?.low ?? null;
    if (target !== null && firstOffset > target && !this.seekedOnce.has(partition)) {
      this.seekedOnce.add(partition);
      this.consumer.seek({ topic, partition, offset: String(target) });
      return SEEKED;
    }
    return expected;
  }

  /** Another member committed this partition meanwhile: our view is stale. Re-read and seek. */
  private discardStale(partition: number, expected: number | null, stored: number | null): void {
    this.summary.staleBatches++;
    this.deps.log.warn({ partition, expected, stored }, 'stale batch discarded (partition moved on)');
    this.positions.delete(partition);
    if (stored !== null) this.consumer.seek({ topic: this.opts.topic, partition, offset: String(stored) });
  }

  /** Counts a committed batch in the summary and the metrics. */
  private record(
    prepared: PreparedBatch,
    result: Extract<CommitResult, { committed: true }>,
    partition: number,
    highWatermark: number,
  ): void {
    const { summary, joined } = this;
    const { metrics } = this.deps;
    summary.stored += result.inserted;
    summary.duplicates += result.duplicates;
    summary.deadLetters += prepared.deadLetters.length;
    metrics.processed.inc(result.inserted);
    if (joined.hasFallbacks) {
      // Counted over the batch's events (a duplicate event id, already stored, is in there too).
      const fallback = prepared.events.filter((e) => joined.isFallback(e.date)).length;
      summary.joinedFallback += fallback;
      metrics.joinedFallback.inc(fallback);
    }
    if (prepared.deadLetters.length > 0) metrics.errors.inc(prepared.deadLetters.length);
    for (const d of prepared.deadLetters) {
      summary.rejectsByReason[d.reason] = (summary.rejectsByReason[d.reason] ?? 0) + 1;
      metrics.rejects.inc({ reason: d.reason });
    }
    metrics.lag.set({ partition: String(partition) }, Math.max(0, highWatermark - prepared.nextOffset!));
  }

  /** Kafka's own committed offset, for lag monitors only: at most once a second per partition. */
  private courtesyCommit(partition: number, next: number): void {
    const now = Date.now();
    if (now - (this.lastKafkaCommit.get(partition) ?? 0) <= 1000) return;
    this.lastKafkaCommit.set(partition, now);
    this.consumer
      .commitOffsets([{ topic: this.opts.topic, partition, offset: String(next) }])
      .catch(() => undefined);
  }

  /** A progress line (bounded mode: with the messages left to the end offsets). */
  logProgress(): void {
    const { stored, deadLetters } = this.summary;
    const remaining = this.ends
      ? remainingMessages(this.deps.store.storedOffsets(this.opts.groupId, this.opts.topic), this.ends)
      : undefined;
    this.deps.log.info(
      { stored, deadLetters, ...(remaining === undefined ? {} : { remaining }) },
      'progress',
    );
  }

  /** The summary with its timing and the stored offsets, at the end of the run. */
  finalSummary(): ConsumerSummary {
    const { summary } = this;
    summary.seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    summary.messagesPerSecond = Math.round((summary.stored + summary.deadLetters) / summary.seconds);
    summary.offsets = Object.fromEntries(this.deps.store.storedOffsets(this.opts.groupId, this.opts.topic));
    return summary;
  }
}

function createClients(opts: ConsumerOptions, kafka: Kafka): { consumer: Consumer; producer: Producer } {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const consumer = kafka.consumer({
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
  return { consumer, producer };
}

export async function runConsumer(opts: ConsumerOptions, deps: ConsumerDeps): Promise<ConsumerSummary> {
  const { kafka, store, log } = deps;
  await deps.ensureTopic(opts.topic, opts.partitions);
  await deps.ensureTopic(opts.dlqTopic, opts.partitions);
  const joined = new JoinedIndex(store, deps.openJoined, log, deps.openLatestJoined);
  // Alone, the consumer (re)loads the date's joined rows before anything else; a worker reads them
  // once its parent's loader child has stored them.
  const elsewhere = opts.joinedLoadedElsewhere;
  const joinedReady = elsewhere
    ? elsewhere.then(() => joined.ensure(opts.date))
    : joined.ensure(opts.date, true);
  // Handled by the batch handler once it exists (it waits on it); not an unhandled rejection before.
  joinedReady.catch(() => undefined);
  if (!elsewhere) await joinedReady;
  const ends = opts.follow ? undefined : (opts.endOffsets ?? (await fetchEndOffsets(kafka, opts.topic)));
  const handler = new BatchHandler(opts, deps, joined, ends, joinedReady);
  if (handler.isDone()) {
    log.info({ topic: opts.topic }, 'nothing to consume: stored offsets already at the end offsets');
    return handler.finalSummary();
  }
  const { consumer, producer } = createClients(opts, kafka);
  handler.attach(consumer, producer);
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    handler.onAssignment();
    log.info({ assignment: e.payload.memberAssignment }, 'partitions assigned');
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) handler.stop(e.payload.error);
  });
  void deps.stopSignal.then(() => handler.stop());
  const timers: NodeJS.Timeout[] = [];
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
      eachBatch: handler.eachBatch,
    });
    // Bounded mode: also check on a timer, since a partition with nothing new never gets a batch
    // (another group member may be the one finishing it).
    timers.push(setInterval(() => handler.logProgress(), opts.progressIntervalMs));
    timers.push(
      setInterval(() => {
        if (handler.isDone()) handler.stop();
      }, 200),
    );
    for (const t of timers) t.unref();
    await handler.done;
  } finally {
    for (const t of timers) clearInterval(t);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
  if (handler.fatal) throw handler.fatal;
  return handler.finalSummary();
}
