// The producer's I/O edge: cleaned rows in, population_data messages out. Idempotent producers,
// acks=all, batches of --batch-size, compression; the rows are split by partition among parallel
// senders (senders.ts) so each key keeps one producer and its order.
import type { Logger } from '../../lib/log.ts';
import { runKeyOf } from './event-id.ts';
import { encodeRow } from './message.ts';
import type { ProducerMetrics } from './metrics.ts';
import { keyPartitioner, splitBySender } from './partitions.ts';
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
  const { metrics, log } = deps;
  const started = process.hrtime.bigint();
  let stopping = false;
  void deps.stopSignal.then(() => {
    stopping = true;
  });

  metrics.rejects.inc(input.rejects.length);
  for (const r of input.rejects) log.warn({ line: r.line, id: r.id, reason: r.reason }, 'row rejected');

  const partitions = await deps.ensureTopic(opts.topic, opts.partitions);
  const partitionOf = keyPartitioner(partitions);
  const rows = input.rows.map((row, rowNumber) => {
    const { key, tail } = encodeRow(row);
    return { key, tail, partition: partitionOf(key), rowNumber };
  });
  // A bounded run's event ids derive from its content, so that a re-run (the DAG's retry after a
  // failure mid-send) repeats the ids of what was already delivered and the consumer drops those.
  const runKey = opts.follow
    ? null
    : runKeyOf(
        opts.topic,
        opts.date,
        rows.map((r) => `${r.key}${r.tail}`),
      );
  await deps.senders.load(splitBySender(rows, Math.min(deps.senders.size, partitions)), runKey);
  void deps.stopSignal.then(() => deps.senders.stop());

  const totalPlanned = opts.follow ? 0 : rows.length * opts.loops;
  let produced = 0;
  let loop = 0;
  const onSent = (count: number) => {
    produced += count;
    metrics.produced.inc(count);
    deps.onProgress?.(produced, totalPlanned);
  };
  while (!stopping && (opts.follow || loop < opts.loops)) {
    loop++;
    const loopStart = Date.now();
    // A stop request lets each sender's batch in flight finish (acknowledged before disconnect).
    await deps.senders.sendLoop(loop, onSent);
    metrics.loops.inc();
    log.info({ loop, produced, ms: Date.now() - loopStart }, 'loop sent');
    await deps.onLoopDone?.(loop);
    if (opts.follow && !stopping) {
      // Sleep until the next loop, waking early on a stop request.
      await Promise.race([
        new Promise((r) => setTimeout(r, Math.max(0, opts.intervalMs - (Date.now() - loopStart)))),
        deps.stopSignal,
      ]);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  metrics.duration.set(seconds);
  return {
    topic: opts.topic,
    date: opts.date,
    loops: loop,
    produced,
    rejects: input.rejects.length,
    seconds,
    messagesPerSecond: Math.round(produced / seconds),
    stoppedBySignal: stopping,
  };
}
