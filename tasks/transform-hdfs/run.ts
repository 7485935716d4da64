// The transform run: HDFS /data/raw CSVs -> clean + inner join -> HDFS /data/processed. All I/O is
// here and in atomic-outputs.ts (every output renamed into place only once all are complete); the
// logic is in clean-source.ts and join.ts. Steps: check the inputs, open the outputs, stream the
// join into them, commit (or abort), record the metrics.
import path from 'node:path/posix';
import { Transform } from 'node:stream';
import { readCsvBatchesWithHeader, type CsvRecord } from '../../lib/csv.ts';
import type { HdfsClient } from '../../lib/hdfs.ts';
import type { Logger } from '../../lib/log.ts';
import { SOURCES, headerOf } from '../../lib/sources.ts';
import {
  AtomicOutputs,
  COLUMNS_FILE,
  JOINED_FILE,
  REJECTS_FILE,
  outputPaths,
  type WrittenBytes,
} from './atomic-outputs.ts';
import { ATTRIBUTE_SOURCES, cleanAndJoin, type AttributeSource, type JoinStats } from './join.ts';
import type { TransformMetrics } from './metrics.ts';

/** Longest CSV record read: a 10 MB cell is still a record (its cell is rejected), not a failure. */
export const MAX_RECORD_CHARS = 16 << 20;

/** How the sources are read: the cleaners work on unquoted lines in place (lib/csv.ts UnquotedRecord). */
export const READ_OPTIONS = { maxRecordChars: MAX_RECORD_CHARS, lazyFields: true } as const;

export interface TransformOptions {
  date: string;
  rawDir: string;
  outDir: string;
  progressIntervalMs: number;
}

export interface TransformSummary extends JoinStats {
  date: string;
  outputs: { joined: string; latest: string; rejects: string; columns: string };
  rejectLines: number;
  /** Columns of an input that no source schema names: ignored (columns are matched by header name). */
  ignoredColumns: IgnoredColumns;
  bytesRead: number;
  bytesWritten: number;
  durationMs: number;
}

/** A whole input is unusable (missing, empty, wrong header): the message names the file. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Counts bytes as they stream by (progress, metrics). */
function byteCounter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

type Inputs = Record<AttributeSource, { path: string; length: number }>;

/** Fails fast and clearly, before any write: NameNode down, then each input present and non-empty. */
async function checkInputs(hdfs: HdfsClient, rawDir: string): Promise<Inputs> {
  await hdfs.ping();
  const inputs = {} as Inputs;
  for (const source of ATTRIBUTE_SOURCES) {
    const p = path.join(rawDir, SOURCES[source].file);
    const entry = await hdfs.stat(p);
    if (!entry || entry.type !== 'FILE')
      throw new InputError(`input missing: hdfs://${p} (${SOURCES[source].file})`);
    if (entry.length === 0) throw new InputError(`input empty: hdfs://${p} (${SOURCES[source].file})`);
    inputs[source] = { path: p, length: entry.length };
  }
  return inputs;
}

/** What the progress line and the summary count while the join runs. */
interface Progress {
  bytesRead: number;
  rowsJoined: number;
  rejectLines: number;
}

function logProgress(
  log: Logger,
  progress: Progress,
  totalBytes: number,
  intervalMs: number,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    const { bytesRead, rowsJoined, rejectLines } = progress;
    log.info(
      { bytesRead, totalBytes, percent: Math.round((100 * bytesRead) / totalBytes), rowsJoined, rejectLines },
      'transform progress',
    );
  }, intervalMs);
  timer.unref();
  return timer;
}

type IgnoredColumns = Partial<Record<AttributeSource, string[]>>;

/**
 * The three attribute files as batches of records, counting the bytes read. Columns are matched by
 * header name; those no source schema names are noted in `ignored`.
 */
function openInputs(
  hdfs: HdfsClient,
  inputs: Inputs,
  progress: Progress,
  ignored: IgnoredColumns,
  log: Logger,
) {
  const open = (source: AttributeSource): AsyncIterable<CsvRecord[]> => {
    const stream = hdfs.readStream(inputs[source].path).pipe(byteCounter((n) => (progress.bytesRead += n)));
    return readCsvBatchesWithHeader(stream, headerOf(SOURCES[source]), SOURCES[source].file, {
      ...READ_OPTIONS,
      onHeader: ({ extra }) => {
        if (extra.length === 0) return;
        ignored[source] = extra;
        log.warn({ source, columns: extra }, 'ignoring columns that the source schema does not name');
      },
    });
  };
  return {
    income: open('income'),
    health_insurance: open('health_insurance'),
    self_employment: open('self_employment'),
  };
}

function recordMetrics(metrics: TransformMetrics, stats: JoinStats): void {
  for (const source of ATTRIBUTE_SOURCES) metrics.rowsIn.inc({ source }, stats.rowsIn[source]);
  metrics.rowsJoined.inc(stats.rowsJoined);
  for (const [reason, n] of Object.entries(stats.rejects)) metrics.rejects.inc({ reason }, n);
}

function recordBytes(metrics: TransformMetrics, written: WrittenBytes): void {
  metrics.bytesWritten.inc({ file: JOINED_FILE }, written.joined);
  metrics.bytesWritten.inc({ file: REJECTS_FILE }, written.rejects);
  metrics.bytesWritten.inc({ file: COLUMNS_FILE }, written.columns);
}

export async function runTransform(
  options: TransformOptions,
  deps: { hdfs: HdfsClient; log: Logger; metrics: TransformMetrics },
): Promise<TransformSummary> {
  const { hdfs, log, metrics } = deps;
  const started = Date.now();
  const out = outputPaths(options.outDir, options.date);
  const inputs = await checkInputs(hdfs, options.rawDir);
  const totalBytes = ATTRIBUTE_SOURCES.reduce((s, src) => s + inputs[src].length, 0);
  const outputs = await AtomicOutputs.open(hdfs, options.outDir, out, log);
  const progress: Progress = { bytesRead: 0, rowsJoined: 0, rejectLines: 0 };
  const timer = logProgress(log, progress, totalBytes, options.progressIntervalMs);
  const ignoredColumns: IgnoredColumns = {};
  let stats: JoinStats | undefined;
  try {
    stats = await cleanAndJoin(openInputs(hdfs, inputs, progress, ignoredColumns, log), {
      row: (r) => {
        progress.rowsJoined++;
        outputs.row(r);
      },
      reject: (r) => {
        progress.rejectLines++;
        outputs.reject(r);
      },
      drain: () => outputs.drain(),
    });
    const written = await outputs.commit();
    recordBytes(metrics, written);
    return {
      date: options.date,
      ...stats,
      outputs: out,
      rejectLines: progress.rejectLines,
      ignoredColumns,
      bytesRead: progress.bytesRead,
      bytesWritten: written.joined + written.rejects + written.columns,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    throw await outputs.abort(err);
  } finally {
    clearInterval(timer);
    if (stats) recordMetrics(metrics, stats);
  }
}
