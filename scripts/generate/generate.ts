// Streams the generated sources to files: rows are produced in batches, each batch is written to
// every file, and a full stream is awaited ('drain') before the next batch, so memory stays flat
// whatever the row count. Files are written under a temporary name and renamed when complete.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanAcsNumber, cleanId, cleanNeighborhood, isRejection } from '../../lib/clean.ts';
import { readCsvRecordsWithHeader } from '../../lib/csv.ts';
import { headerOf, SOURCES, type SourceName } from '../../lib/sources.ts';
import { formatCsvLine } from '../../lib/csv.ts';
import { formatSourceLine, type LineFormat } from './format.ts';
import { hashSeed } from './prng.ts';
import { createRowGenerator, type KnownRow } from './rows.ts';

export const MAX_ROWS = 10_000_000;
const BATCH_ROWS = 512;

export interface KnownRowWithId extends KnownRow {
  id: number;
}

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
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface GeneratedFile {
  source: SourceName;
  path: string;
  rows: number;
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'close');
}

export async function generateFiles(options: GenerateOptions): Promise<GeneratedFile[]> {
  const total = options.known?.length ?? options.rows;
  if (options.known === undefined && (!Number.isInteger(total) || total < 1 || total > MAX_ROWS)) {
    throw new Error(`rows must be an integer from 1 to ${MAX_ROWS}, got ${total}`);
  }
  if (!(options.dirty >= 0 && options.dirty <= 1))
    throw new Error(`dirty must be within 0..1, got ${options.dirty}`);
  await mkdir(options.outDir, { recursive: true });
  const seed = hashSeed(options.seed);
  const generateRow = createRowGenerator(seed);
  const eol = options.lineEnding === 'crlf' ? '\r\n' : '\n';
  const format: LineFormat = { dirty: options.dirty, eol, seed };

  const outputs = options.sources.map((source) => {
    const finalPath = path.join(options.outDir, SOURCES[source].file);
    const tmpPath = `${finalPath}.tmp-${process.pid}`;
    const stream = createWriteStream(tmpPath, { highWaterMark: 1 << 20 });
    const header = formatCsvLine(headerOf(SOURCES[source])).slice(0, -1) + eol;
    stream.write(header);
    return { source, finalPath, tmpPath, stream, batch: '' };
  });
  let failed: Error | undefined;
  for (const o of outputs) o.stream.on('error', (e) => (failed ??= e));

  try {
    for (let start = 0; start < total; start += BATCH_ROWS) {
      const end = Math.min(total, start + BATCH_ROWS);
      for (let i = start; i < end; i++) {
        const known = options.known?.[i];
        const row = generateRow(known?.id ?? i + 1, known);
        for (const o of outputs) o.batch += formatSourceLine(o.source, row, format);
      }
      const full: Promise<unknown>[] = [];
      for (const o of outputs) {
        if (!o.stream.write(o.batch)) full.push(once(o.stream, 'drain'));
        o.batch = '';
      }
      if (full.length > 0) await Promise.all(full);
      if (failed) throw failed;
      options.onProgress?.(end, total);
    }
    await Promise.all(outputs.map((o) => closeStream(o.stream)));
    if (failed) throw failed;
    await Promise.all(outputs.map((o) => rename(o.tmpPath, o.finalPath)));
  } catch (error) {
    for (const o of outputs) o.stream.destroy();
    await Promise.all(outputs.map((o) => rm(o.tmpPath, { force: true })));
    throw error;
  }
  return outputs.map((o) => ({ source: o.source, path: o.finalPath, rows: total }));
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
    if (record.error !== undefined || isRejection(id) || isRejection(neighborhood)) {
      const reason =
        record.error ?? (isRejection(id) ? id.reason : isRejection(neighborhood) ? neighborhood.reason : '');
      throw new Error(`${file}:${record.line}: ${reason}`);
    }
    rows.push({ id, neighborhood, ...(typeof population === 'number' ? { population } : {}) });
  }
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  return rows;
}
