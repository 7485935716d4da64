// The producer's I/O edge: cleaned rows in, population_data messages out. Idempotent producers,
// acks=all, batches of --batch-size, compression; the rows are split by partition among parallel
// senders (senders.ts) so each key keeps one producer and its order.
import { createHash } from 'node:crypto';
import type { Logger } from '../../lib/log.ts';
import { collectGarbage } from '../../lib/memory.ts';
import { runKeyHasher } from './event-id.ts';
import { encodeRow } from './message.ts';
import type { ProducerMetrics } from './metrics.ts';
import { PackedRowsBuilder, type PackedRows } from './packed-rows.ts';
import { keyPartitioner, senderOf } from './partitions.ts';
import type { PopulationRows } from './rows.ts';
import type { SenderPool } from './senders.ts';

export interface ProducerOptions {
  topic: string;
  partitions: number;
  date: string;
  /** Bounded mode: how many times the file is sent. Ignored with follow. */
  loops: number;
  /** Resend forever, one loop per interval, until stopped. */
  follow: boolean;
  intervalMs: number;
}

export interface ProducerDeps {
  /** Started by the caller (their threads start while it reads the input); closed by the caller. */
  senders: SenderPool;
  /** Creates the topic unless it exists; resolves to its actual partition count. */
  ensureTopic: (topic: string, partitions: number) => Promise<number>;
  metrics: ProducerMetrics;
  log: Logger;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: Promise<void>;
  /**
   * Follow mode: reads and cleans the source again before each loop after the first, so that an edit
   * of the file shows up in the next loop; null when the file's version (size, modification time)
   * did not change. A failure keeps the previous rows (logged).
   */
  reread?: () => Promise<PopulationRows | null>;
  /** Called after each loop (follow mode pushes metrics there). */
  onLoopDone?: (loop: number) => Promise<void>;
  onProgress?: (sent: number, total: number) => void;
}

export interface ProducerSummary {
  topic: string;
  date: string;
  loops: number;
  produced: number;
  rejects: number;
  seconds: number;
  messagesPerSecond: number;
  stoppedBySignal: boolean;
}

export async function runProducer(
  input: PopulationRows,
  opts: ProducerOptions,
  deps: ProducerDeps,
): Promise<ProducerSummary> {
  const started = process.hrtime.bigint();
  const run = new ProducerRun(opts, deps);
  await run.start(input);
  const loops = await run.sendLoops();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  deps.metrics.duration.set(seconds);
  return {
    topic: opts.topic,
    date: opts.date,
    loops,
    produced: run.produced,
    rejects: run.rejects,
    seconds,
    messagesPerSecond: Math.round(run.produced / seconds),
    stoppedBySignal: run.stopping,
  };
}

/** One producer run: the rows the senders hold (and their fingerprint), the loops and the counts. */
class ProducerRun {
  stopping = false;
  produced = 0;
  rejects = 0;
  private rowCount = 0;
  private fingerprint = '';
  private partitions = 0;
  private sendersUsed = 0;

  constructor(
    private readonly opts: ProducerOptions,
    private readonly deps: ProducerDeps,
  ) {
    void deps.stopSignal.then(() => {
      this.stopping = true;
    });
  }

  /** Creates the topic, encodes the rows once and hands them to the senders. */
  async start(input: PopulationRows): Promise<void> {
    const { opts, deps } = this;
    this.partitions = await deps.ensureTopic(opts.topic, opts.partitions);
    this.sendersUsed = Math.min(deps.senders.size, this.partitions);
    // A bounded run's event ids derive from its content, so that a re-run (the DAG's retry after a
    // failure mid-send) repeats the ids of what was already delivered and the consumer drops those.
    const runKey = opts.follow ? null : runKeyHasher(opts.topic, opts.date);
    const prepared = this.prepare(input, undefined, runKey);
    // Follow mode keeps every sender open: an edited source may bring rows to an idle partition.
    await deps.senders.load(prepared.groups, runKey?.digest() ?? null, opts.follow);
    void deps.stopSignal.then(() => deps.senders.stop());
    this.adopt(prepared, input.rejects.length);
    // The senders hold the rows now; the cleaned rows (moved out by prepareRows) and the encoding
    // garbage would stay resident for the whole run: this thread allocates too little to collect.
    collectGarbage();
  }

  /** Bounded: `loops` loops; follow: one per interval until stopped. Resolves to the loops begun. */
  async sendLoops(): Promise<number> {
    const { opts, deps } = this;
    let loop = 0;
    let loopNumber = 0;
    while (!this.stopping && (opts.follow || loop < opts.loops)) {
      loop++;
      const loopStart = Date.now();
      // The number written in the messages: 1..N in a bounded run; in follow mode a clock-based number
      // that keeps growing across restarts (see followLoopNumber).
      loopNumber = opts.follow ? followLoopNumber(loopStart, loopNumber) : loop;
      if (opts.follow && loop > 1 && deps.reread) await this.refresh(loopNumber);
      if (this.stopping) break;
      await this.sendLoop(loopNumber, loopStart);
      if (opts.follow && !this.stopping) {
        // Sleep until the next loop, waking early on a stop request.
        await Promise.race([
          new Promise((r) => setTimeout(r, Math.max(0, opts.intervalMs - (Date.now() - loopStart)))),
          deps.stopSignal,
        ]);
      }
    }
    return loop;
  }

  /** One loop from every sender; a stop request lets each batch in flight finish (acknowledged). */
  private async sendLoop(loopNumber: number, loopStart: number): Promise<void> {
    const { metrics, log } = this.deps;
    const totalPlanned = this.opts.follow ? 0 : this.rowCount * this.opts.loops;
    await this.deps.senders.sendLoop(loopNumber, (count) => {
      this.produced += count;
      metrics.produced.inc(count);
      this.deps.onProgress?.(this.produced, totalPlanned);
    });
    metrics.loops.inc();
    log.info({ loop: loopNumber, produced: this.produced, ms: Date.now() - loopStart }, 'loop sent');
    await this.deps.onLoopDone?.(loopNumber);
  }

  /** Follow mode: the source as it is now; the senders get its rows when they changed. */
  private async refresh(loop: number): Promise<void> {
    const { deps } = this;
    let fresh: PopulationRows | null;
    try {
      fresh = await deps.reread!();
      if (fresh === null) return;
    } catch (err) {
      deps.log.warn(
        { loop, err: err instanceof Error ? err.message : String(err) },
        'source re-read failed: resending the previous rows',
      );
      return;
    }
    const next = this.prepare(fresh, this.fingerprint);
    if (next.fingerprint === this.fingerprint) return;
    await deps.senders.reload(next.groups);
    collectGarbage();
    deps.log.info(
      { loop, rows: next.count, rejects: fresh.rejects.length },
      'source changed: sending its new rows',
    );
    this.adopt(next, fresh.rejects.length);
  }

  private prepare(
    input: PopulationRows,
    unchangedIf?: string,
    runKey?: ReturnType<typeof runKeyHasher> | null,
  ): PreparedRows {
    const { log, metrics } = this.deps;
    return prepareRows(input, this.partitions, this.sendersUsed, log, metrics, unchangedIf, runKey);
  }

  /** The senders hold these rows now. */
  private adopt(prepared: PreparedRows, rejects: number): void {
    this.fingerprint = prepared.fingerprint;
    this.rowCount = prepared.count;
    this.rejects = rejects;
  }
}

/** A source's rows encoded once for every loop, packed per sender, with a fingerprint of what is sent. */
interface PreparedRows {
  groups: PackedRows[];
  count: number;
  fingerprint: string;
}

/**
 * Encodes cleaned rows for the senders (partition p goes to sender p mod senders, file order kept)
 * and records their rejects. One pass, straight into each sender's packed strings: no row objects
 * nor per-row concatenations are kept for the whole file (they made up most of the parent's heap).
 * With `unchangedIf` (a re-read in follow mode), rejects are recorded only when the content differs
 * from that fingerprint, so an unchanged file does not count its rejects again at every loop.
 * `runKey`, when given, hashes every row too. The rows are moved out of `input` (its `rows` is left
 * empty): once packed they are garbage, which the caller's reference would otherwise keep alive.
 */
function prepareRows(
  input: PopulationRows,
  partitions: number,
  senders: number,
  log: Logger,
  metrics: ProducerMetrics,
  unchangedIf?: string,
  runKey?: ReturnType<typeof runKeyHasher> | null,
): PreparedRows {
  const partitionOf = keyPartitioner(partitions);
  const builders = Array.from({ length: senders }, () => new PackedRowsBuilder(input.rows.length));
  const hash = createHash('sha1');
  input.rows.forEach((row, rowNumber) => {
    const { key, tail } = encodeRow(row);
    const partition = partitionOf(key);
    builders[senderOf(partition, senders)]!.add(key, tail, partition, rowNumber);
    hash.update(key).update(tail).update('\n');
    runKey?.add(key, tail);
  });
  const count = input.rows.length;
  input.rows.length = 0;
  const fingerprint = hash.digest('hex');
  if (fingerprint !== unchangedIf) {
    metrics.rejects.inc(input.rejects.length);
    for (const r of input.rejects) log.warn({ line: r.line, id: r.id, reason: r.reason }, 'row rejected');
  }
  return { groups: builders.map((b) => b.finish()), count, fingerprint };
}

/** 2020-01-01T00:00:00Z: the origin of follow-mode loop numbers. */
const FOLLOW_LOOP_EPOCH_MS = Date.UTC(2020, 0, 1);

/**
 * The loop number of a follow-mode loop starting at `nowMs`: seconds since 2020-01-01, and at least
 * one more than the previous loop's. The consumer keeps, per date and Id, the event of the highest
 * loop: numbers 1, 2, 3 ... restarting with the process would leave the cubes on the previous run's
 * rows until the new run's count caught up; a clock-based number continues across restarts (unless
 * the previous run sent more than one loop per second). About 2.2e8 today, far under the consumer's
 * limit of 1e9 (year 2051).
 */
export function followLoopNumber(nowMs: number, previous: number): number {
  return Math.max(previous + 1, Math.floor((nowMs - FOLLOW_LOOP_EPOCH_MS) / 1000));
}
