// A sender thread: its own idempotent producer (own producer id and connection) sending the rows of
// the partitions it owns, one loop per request from the parent (see senders.ts for the protocol).
import { parentPort, workerData } from 'node:worker_threads';
import { connectionFailureReason, createKafka } from '../../lib/kafka.ts';
import { COMPRESSION } from './compression.ts';
import { deterministicEventId } from './event-id.ts';
import { createEventIdGenerator } from './message.ts';
import { unpackRows } from './packed-rows.ts';
import { sendLoop, type RowList, type SenderRow } from './send-loop.ts';
import type { FromSender, RunKey, SenderConfig, ToSender } from './senders.ts';

const config = workerData as SenderConfig;
const port = parentPort!;
const post = (message: FromSender) => port.postMessage(message);
const failed = (err: unknown) =>
  post({
    type: 'failed',
    message: err instanceof Error ? err.message : String(err),
    brokerReason: connectionFailureReason(err),
  });

/** Every message carries the partition computed once per row (partitions.ts). */
function messagePartition({ message }: { message: { partition?: number } }): number {
  if (message.partition === undefined) throw new Error('producer message without a partition');
  return message.partition;
}

// The logger (pino) is only loaded when kafkajs' debug logs are wanted: it slows the thread's start.
const logger =
  config.logLevel === 'debug'
    ? (await import('../../lib/log.ts')).createLogger('producer', config.logLevel)
    : undefined;
// Retries ride out a broker restart (~15-80 s on the local stack): the idempotent producer resends
// the batch in flight and the broker drops what it had already written. (The parent checks the broker
// with the default, fail-fast retries before anything is sent.)
const producer = createKafka(config.kafka, {
  ...(logger ? { logger } : {}),
  retries: 30,
  maxRetryTimeMs: 5000,
}).producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  // kafkajs' default partitioner would return the same partition, after filtering the metadata
  // for every message.
  createPartitioner: () => messagePartition,
});
// Connect while the parent reads the input; a failure is reported at once.
const connected = producer.connect().then(
  () => true,
  (err: unknown) => {
    failed(err);
    return false;
  },
);
const compression = COMPRESSION[config.compression];
let rows: RowList = [];
let eventId: (loop: number, row: SenderRow) => string = () => {
  throw new Error('sender used before load');
};
let stopping = false;
let current: Promise<unknown> = connected;

function eventIdsOf(runKey: RunKey): (loop: number, row: SenderRow) => string {
  if (runKey !== null) return (loop, row) => deterministicEventId(runKey, loop, row.rowNumber);
  const next = createEventIdGenerator();
  return () => next();
}

async function runLoop(loop: number): Promise<void> {
  await sendLoop(rows, {
    loop,
    date: config.date,
    batchSize: config.batchSize,
    eventId,
    now: () => new Date().toISOString(),
    shouldStop: () => stopping,
    send: async (messages) => {
      await producer.sendBatch({ acks: -1, compression, topicMessages: [{ topic: config.topic, messages }] });
    },
    onSent: (count) => post({ type: 'sent', count }),
  });
  post({ type: 'loopDone' });
}

port.on('message', (message: ToSender) => {
  switch (message.type) {
    case 'load':
      rows = unpackRows(message.rows);
      eventId = eventIdsOf(message.runKey);
      current = connected.then((ok) => ok && post({ type: 'ready' }));
      break;
    case 'loop':
      current = runLoop(message.loop).catch(failed);
      break;
    case 'stop':
      stopping = true;
      break;
    case 'close':
      // The loop in flight (if any) ends after its batch; then leave cleanly and let the thread exit.
      stopping = true;
      void current.then(() => producer.disconnect()).then(() => port.close(), failed);
      break;
  }
});
