// The producer's I/O edge: cleaned rows in, population_data messages out. Idempotent producer
// (kafkajs requires maxInFlightRequests 1 for it), acks=all, large sendBatch calls, compression.
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../../lib/log.ts';
import { createEventIdGenerator, encodeRow, messageValue } from './message.ts';
import type { ProducerMetrics } from './metrics.ts';
import type { PopulationRows } from './rows.ts';

export type CompressionName = 'none' | 'gzip';

export const COMPRESSION: Record<CompressionName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
};

export interface ProducerOptions {
  topic: string;
  partitions: number;
  date: string;
  /** Bounded mode: how many times the file is sent. Ignored with follow. */
  loops: number;
  /** Resend forever, one loop per interval, until stopped. */
  follow: boolean;
  intervalMs: number;
  batchSize: number;
  compression: CompressionName;
}

export interface ProducerDeps {
  kafka: Kafka;
  ensureTopic: (topic: string, partitions: number) => Promise<void>;
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
  const { kafka, metrics, log } = deps;
  const started = process.hrtime.bigint();
  let stopping = false;
  void deps.stopSignal.then(() => {
    stopping = true;
  });

  metrics.rejects.inc(input.rejects.length);
  for (const r of input.rejects) log.warn({ line: r.line, id: r.id, reason: r.reason }, 'row rejected');

  await deps.ensureTopic(opts.topic, opts.partitions);
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();

  const encoded = input.rows.map(encodeRow);
  const nextEventId = createEventIdGenerator();
  const compression = COMPRESSION[opts.compression];
  const perLoop = encoded.length;
  const totalPlanned = opts.follow ? 0 : perLoop * opts.loops;
  let produced = 0;
  let loop = 0;
  try {
    while (!stopping && (opts.follow || loop < opts.loops)) {
      loop++;
      const loopStart = Date.now();
      for (let start = 0; start < perLoop; start += opts.batchSize) {
        // A stop request lets the batch in flight finish (it is acknowledged before disconnect).
        if (stopping) break;
        const end = Math.min(perLoop, start + opts.batchSize);
        const producedAt = new Date().toISOString();
        const messages = new Array<{ key: string; value: string }>(end - start);
        for (let i = start; i < end; i++) {
          const row = encoded[i]!;
          messages[i - start] = {
            key: row.key,
            value: messageValue(row, nextEventId(), opts.date, loop, producedAt),
          };
        }
        await producer.sendBatch({ acks: -1, compression, topicMessages: [{ topic: opts.topic, messages }] });
        produced += messages.length;
        metrics.produced.inc(messages.length);
        deps.onProgress?.(produced, totalPlanned);
      }
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
  } finally {
    await producer.disconnect();
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
