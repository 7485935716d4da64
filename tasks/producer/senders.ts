// Parallel senders: one worker thread per sender, each with its own idempotent producer and a
// disjoint set of partitions. kafkajs' idempotent producer holds one request in flight per broker
// and builds, encodes and compresses it on the calling thread, so one producer leaves the CPU and
// the broker idle in turns; N senders keep N requests in the works at once, while each key still
// leaves from a single producer, in order.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../lib/config.ts';
import { BrokerUnavailableError } from '../../lib/kafka.ts';
import type { CompressionName } from './compression.ts';
import { transferablesOf, type PackedRows } from './packed-rows.ts';
import { senderEntry } from './sender-entry.ts';

/** What every sender thread is started with. */
export interface SenderConfig {
  kafka: Config['kafka'];
  logLevel: string;
  topic: string;
  date: string;
  batchSize: number;
  compression: CompressionName;
}

/**
 * V8 heap cap of each sender thread (old generation, MB): it holds kafkajs and the batch in flight
 * (~10-20 MB live; its rows are outside the heap, see packed-rows.ts). Without a cap V8 lets each
 * thread's heap grow to a few times what is live before collecting (~150 MB a sender was measured).
 */
export const SENDER_HEAP_MB = 48;

/** Parent -> sender: `load` once, then `loop`s one at a time (each after the previous is done). */
export type ToSender =
  | { type: 'load'; rows: PackedRows; runKey: RunKey }
  | { type: 'loop'; loop: number }
  | { type: 'stop' }
  | { type: 'close' };

/**
 * How event ids are made: from this run key (a bounded run: the same rows give the same ids on a
 * re-run, see event-id.ts) or, when null, UUIDv7s (follow mode: every resend is a new event).
 */
export type RunKey = string | null;

/** Sender -> parent: `ready` once loaded and connected, `sent` after each acknowledged batch. */
export type FromSender =
  | { type: 'ready' }
  | { type: 'sent'; count: number }
  | { type: 'loopDone' }
  | { type: 'failed'; message: string; brokerReason: string | undefined };

export interface SenderPool {
  /** Threads started (the most senders `load` can use). */
  readonly size: number;
  /** Gives sender i the rows of group i (at most `size` groups); senders without rows end. */
  /** `keepIdle`: senders given no rows stay open for a later `reload` (follow mode). */
  load(groups: readonly PackedRows[], runKey: RunKey, keepIdle?: boolean): Promise<void>;
  /**
   * Replaces the rows between two loops (a --follow producer whose source changed). Needs the
   * senders kept open by `load(..., keepIdle)`; a group for a closed sender is an error.
   */
  reload(groups: readonly PackedRows[]): Promise<void>;
  /** Every loaded sender sends its rows once; `onSent` gets each acknowledged batch's size. */
  sendLoop(loop: number, onSent: (count: number) => void): Promise<void>;
  /** Senders finish their batch in flight and end the loop early. */
  stop(): void;
  /** Disconnects every producer and ends the threads; never throws, safe to call twice. */
  close(): Promise<void>;
}

/** Rows of a sender given none (a fresh object each time: sending transfers its buffers away). */
const noRows = (): PackedRows => ({
  bytes: new Uint8Array(0),
  ends: new Int32Array(0),
  keyLengths: new Uint8Array(0),
  partitions: new Int32Array(0),
  rowNumbers: new Int32Array(0),
});

/** Preloaded in every sender thread: kafkajs' grouping by partition in linear time (see the file). */
const LINEAR_GROUPING = fileURLToPath(new URL('../../lib/kafkajs-linear-grouping.cjs', import.meta.url));

/**
 * The parent's node flags minus its module loaders (`--import tsx`): the threads run a plain
 * JavaScript bundle (sender-entry.ts), and a loader in each would cost what that bundle saves.
 * Plus the linear-grouping preload.
 */
function workerExecArgv(): string[] {
  const argv: string[] = ['--require', LINEAR_GROUPING];
  const flags = process.execArgv;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (/^--(import|require|loader|experimental-loader)$/.test(flag) || flag === '-r') i++;
    else if (!/^--(import|require|loader|experimental-loader)=/.test(flag)) argv.push(flag);
  }
  return argv;
}

interface Sender {
  load(rows: PackedRows, runKey: RunKey): Promise<void>;
  sendLoop(loop: number, onSent: (count: number) => void): Promise<void>;
  stop(): void;
  close(): Promise<void>;
}

function startSender(config: SenderConfig, entry: URL): Sender {
  const worker = new Worker(entry, {
    execArgv: workerExecArgv(),
    workerData: config,
    // A small young generation too: each batch lives there until acknowledged.
    resourceLimits: { maxOldGenerationSizeMb: SENDER_HEAP_MB, maxYoungGenerationSizeMb: 8 },
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let waiting: { type: FromSender['type']; resolve: () => void; reject: (err: Error) => void } | undefined;
  let failure: Error | undefined;
  let signalFailure!: () => void;
  const failed = new Promise<void>((resolve) => (signalFailure = resolve));
  let onSent: (count: number) => void = () => undefined;
  let loaded = false;
  const fail = (err: Error) => {
    failure ??= err;
    signalFailure();
    waiting?.reject(failure);
    waiting = undefined;
  };
  worker.on('message', (m: FromSender) => {
    if (m.type === 'sent') onSent(m.count);
    else if (m.type === 'failed')
      fail(
        m.brokerReason === undefined
          ? new Error(m.message)
          : new BrokerUnavailableError(config.kafka.brokers, m.brokerReason),
      );
    else if (waiting?.type === m.type) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve();
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`producer sender thread exited (code ${code})`)));
  const next = (type: FromSender['type'], message: ToSender) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting = { type, resolve, reject };
      // Rows move to the thread (their buffers are transferred, not copied).
      worker.postMessage(message, message.type === 'load' ? transferablesOf(message.rows) : []);
    });
  return {
    load: (rows, runKey) => {
      loaded = true;
      return next('ready', { type: 'load', rows, runKey });
    },
    sendLoop: (loop, sent) => {
      onSent = sent;
      return next('loopDone', { type: 'loop', loop });
    },
    stop: () => {
      if (!failure) worker.postMessage({ type: 'stop' });
    },
    close: async () => {
      // A sender that never got rows has sent nothing: no batch to wait for, nor a connect attempt.
      if (!failure && loaded) {
        worker.postMessage({ type: 'close' });
        await Promise.race([exited, failed]);
      }
      await worker.terminate();
    },
  };
}

/**
 * Starts `count` sender threads; they load their modules and connect their producers in the
 * background (while the caller reads the input) and wait for `load`.
 */
export function startSenders(count: number, config: SenderConfig): SenderPool {
  const started = senderEntry().then((entry) =>
    Array.from({ length: count }, () => startSender(config, entry)),
  );
  // Until `load` awaits them, a failed start is reported there (or ignored by `close`).
  started.catch(() => undefined);
  let senders: Sender[] = [];
  let loaded: Sender[] = [];
  let runKeyOf: RunKey = null;
  return {
    size: count,
    load: async (groups, runKey, keepIdle = false) => {
      runKeyOf = runKey;
      if (groups.length > count) throw new Error(`${groups.length} row groups for ${count} senders`);
      senders = await started;
      loaded = senders.filter((_, i) => keepIdle || (groups[i]?.partitions.length ?? 0) > 0);
      await Promise.all(
        senders.map((sender, i) =>
          loaded.includes(sender) ? sender.load(groups[i] ?? noRows(), runKey) : sender.close(),
        ),
      );
    },
    reload: async (groups) => {
      if (groups.length > count) throw new Error(`${groups.length} row groups for ${count} senders`);
      const orphan = senders.findIndex(
        (s, i) => !loaded.includes(s) && (groups[i]?.partitions.length ?? 0) > 0,
      );
      if (orphan >= 0)
        throw new Error(`sender ${orphan} had no rows at start and was closed: restart the producer`);
      await Promise.all(
        senders.map((sender, i) =>
          loaded.includes(sender) ? sender.load(groups[i] ?? noRows(), runKeyOf) : undefined,
        ),
      );
    },
    sendLoop: async (loop, onSent) => {
      await Promise.all(loaded.map((s) => s.sendLoop(loop, onSent)));
    },
    stop: () => loaded.forEach((s) => s.stop()),
    close: async () => {
      const all = await started.catch(() => []);
      await Promise.all(all.map((s) => s.close()));
    },
  };
}
