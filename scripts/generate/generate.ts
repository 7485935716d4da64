// Streams the generated sources to files. Rows are rendered in batches (by worker threads for big
// runs, in process otherwise), written in order to every file, and a full stream is awaited
// ('drain') before more batches are requested, so memory stays flat whatever the row count. Files
// are written under a temporary name and renamed when complete.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cleanAcsNumber, cleanId, cleanNeighborhood, isRejection } from '../../lib/clean.ts';
import { formatCsvLine, readCsvRecordsWithHeader } from '../../lib/csv.ts';
import { headerOf, SOURCES, type SourceName } from '../../lib/sources.ts';
import { renderBatch, type KnownRowWithId } from './batch.ts';
import type { LineFormat } from './format.ts';
import { hashSeed } from './prng.ts';
import { createRowGenerator } from './rows.ts';
import type { BatchRequest, BatchResult, WorkerInit } from './worker.ts';

export type { KnownRowWithId } from './batch.ts';

export const MAX_ROWS = 10_000_000;
const BATCH_ROWS = 2048;
/** Below this, starting threads costs more than it saves. */
const MIN_ROWS_FOR_WORKERS = 50_000;
/** Batches in flight per worker: enough to keep it busy, few enough to bound memory. */
const WINDOW_PER_WORKER = 3;

export interface GenerateOptions {
  /** Rows per file (Ids 1..rows); ignored when `known` is given. */
  rows: number;
  outDir: string;
  seed: string | number;
  /** Fraction of dirty cells and line endings, 0..1. */
  dirty: number;
  sources: readonly SourceName[];
  lineEnding: 'lf' | 'crlf';
  /** Take Ids (and names, populations) from these rows instead of 1..rows. */
  known?: readonly KnownRowWithId[];
  /** Worker threads; default: one per core for big runs, none for small ones. */
  workers?: number;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface GeneratedFile {
  source: SourceName;
  path: string;
  rows: number;
}

interface Output {
  stream: WriteStream;
  finalPath: string;
  tmpPath: string;
}

/** Produces rendered batches in order: `next()` resolves the chunks of batch 0, 1, 2, ... */
interface BatchSource {
  next(): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

function inProcessBatches(
  format: LineFormat,
  sources: readonly SourceName[],
  total: number,
  known: readonly KnownRowWithId[] | undefined,
): BatchSource {
  const generateRow = createRowGenerator(format.seed);
  let start = 0;
  return {
    next: () => {
      const end = Math.min(total, start + BATCH_ROWS);
      const chunks = renderBatch(generateRow, format, sources, start, end, known);
      start = end;
      return Promise.resolve(chunks);
    },
    close: () => Promise.resolve(),
  };
}

function workerBatches(
  format: LineFormat,
  sources: readonly SourceName[],
  total: number,
  count: number,
): BatchSource {
  const init: WorkerInit = { format, sources: [...sources] };
  const workers = Array.from(
    { length: count },
    () => new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: init }),
  );
  const batchCount = Math.ceil(total / BATCH_ROWS);
  const waiting = new Map<number, { resolve: (r: Uint8Array[]) => void; reject: (e: Error) => void }>();
  const done = new Map<number, Uint8Array[]>();
  let failure: Error | undefined;
  let requested = 0;
  let delivered = 0;

  const fail = (error: Error): void => {
    failure ??= error;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  const request = (): void => {
    // Keep the window full; batch i always goes to worker i % count (any worker would do).
    while (requested < batchCount && requested < delivered + count * WINDOW_PER_WORKER) {
      const start = requested * BATCH_ROWS;
      const message: BatchRequest = { seq: requested, start, end: Math.min(total, start + BATCH_ROWS) };
      (workers[requested % count] as Worker).postMessage(message);
      requested++;
    }
  };
  for (const worker of workers) {
    worker.on('message', (result: BatchResult) => {
      const w = waiting.get(result.seq);
      if (w) {
        waiting.delete(result.seq);
        w.resolve(result.chunks);
      } else done.set(result.seq, result.chunks);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (delivered < batchCount) fail(new Error(`generator worker exited with code ${code}`));
    });
  }
  request();
  return {
    next: () => {
      const seq = delivered++;
      request();
      if (failure) return Promise.reject(failure);
      const ready = done.get(seq);
      if (ready) {
        done.delete(seq);
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => waiting.set(seq, { resolve, reject }));
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'close');
}

export async function generateFiles(options: GenerateOptions): Promise<GeneratedFile[]> {
  const known = options.known;
  const total = known?.length ?? options.rows;
  if (known === undefined && (!Number.isInteger(total) || total < 1 || total > MAX_ROWS)) {
    throw new Error(`rows must be an integer from 1 to ${MAX_ROWS}, got ${total}`);
  }
  if (!(options.dirty >= 0 && options.dirty <= 1))
    throw new Error(`dirty must be within 0..1, got ${options.dirty}`);
  await mkdir(options.outDir, { recursive: true });
  const eol = options.lineEnding === 'crlf' ? '\r\n' : '\n';
  const format: LineFormat = { dirty: options.dirty, eol, seed: hashSeed(options.seed) };
  const workerCount =
    known !== undefined
      ? 0
      : (options.workers ?? (total >= MIN_ROWS_FOR_WORKERS ? Math.min(4, availableParallelism()) : 0));
  const batches =
    workerCount > 0
      ? workerBatches(format, options.sources, total, workerCount)
      : inProcessBatches(format, options.sources, total, known);

  const outputs: Output[] = options.sources.map((source) => {
    const finalPath = path.join(options.outDir, SOURCES[source].file);
    const tmpPath = `${finalPath}.tmp-${process.pid}`;
    const stream = createWriteStream(tmpPath, { highWaterMark: 1 << 20 });
    stream.write(formatCsvLine(headerOf(SOURCES[source])).slice(0, -1) + eol);
    return { stream, finalPath, tmpPath };
  });
  let failed: Error | undefined;
  for (const o of outputs) o.stream.on('error', (e) => (failed ??= e));

  try {
    for (let end = 0; end < total;) {
      const chunks = await batches.next();
      end = Math.min(total, end + BATCH_ROWS);
      const full: Promise<unknown>[] = [];
      outputs.forEach((o, i) => {
        if (!o.stream.write(chunks[i] as Uint8Array)) full.push(once(o.stream, 'drain'));
      });
      if (full.length > 0) await Promise.all(full);
      if (failed) throw failed;
      options.onProgress?.(end, total);
    }
    await batches.close();
    await Promise.all(outputs.map((o) => closeStream(o.stream)));
    if (failed) throw failed;
    await Promise.all(outputs.map((o) => rename(o.tmpPath, o.finalPath)));
  } catch (error) {
    await batches.close();
    for (const o of outputs) o.stream.destroy();
    await Promise.all(outputs.map((o) => rm(o.tmpPath, { force: true })));
    throw error;
  }
  return options.sources.map((source, i) => ({
    source,
    path: (outputs[i] as Output).finalPath,
    rows: total,
  }));
}

/** Ids, names and populations of a total-population CSV (e.g. the real sample file). */
export async function readKnownRows(file: string): Promise<KnownRowWithId[]> {
  const rows: KnownRowWithId[] = [];
  const stream = createReadStream(file);
  for await (const record of readCsvRecordsWithHeader(stream, headerOf(SOURCES.population), file)) {
    const [rawName = '', rawId = '', rawPopulation = ''] = record.fields;
    const id = cleanId(rawId);
    const neighborhood = cleanNeighborhood(rawName);
    const population = cleanAcsNumber(rawPopulation);
    const reason =
      record.error ??
      (isRejection(id) ? id.reason : isRejection(neighborhood) ? neighborhood.reason : undefined);
    if (reason !== undefined || isRejection(id) || isRejection(neighborhood)) {
      throw new Error(`${file}:${record.line}: ${reason ?? 'bad row'}`);
    }
    rows.push({ id, neighborhood, ...(typeof population === 'number' ? { population } : {}) });
  }
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  return rows;
}
