// The transform run: HDFS /data/raw CSVs -> clean + inner join -> HDFS /data/processed. All I/O is
// here; the logic is in clean-source.ts and join.ts.
//
// Atomicity: every output is streamed to a hidden temporary sibling (lib/hdfs tempPathFor) and only
// renamed into place once all of them are complete: rejects.csv, columns.json, the dated
// all_data_joined.csv, then the latest copy (each rename atomic, with overwrite). A failure or a kill
// before the renames leaves the previous files untouched; temporaries of a killed run are removed by
// the next run. The latest copy is written from the same bytes as the dated file (two concurrent
// uploads of one stream) instead of reading the dated file back.
import path from 'node:path/posix';
import { PassThrough, Transform } from 'node:stream';
import { readCsvBatchesWithHeader, type CsvRecord } from '../../lib/csv.ts';
import { HdfsError, tempPathFor, type HdfsClient } from '../../lib/hdfs.ts';
import type { Logger } from '../../lib/log.ts';
import { SOURCES, headerOf } from '../../lib/sources.ts';
import { ATTRIBUTE_SOURCES, cleanAndJoin, type AttributeSource, type JoinStats } from './join.ts';
import type { TransformMetrics } from './metrics.ts';
import {
  JoinedRowEncoder,
  LineWriter,
  columnsManifest,
  formatReject,
  joinedHeaderLine,
  rejectsHeaderLine,
} from './output.ts';

export const JOINED_FILE = 'all_data_joined.csv';
export const REJECTS_FILE = 'rejects.csv';
export const COLUMNS_FILE = 'columns.json';
/** Longest CSV record read: a 10 MB cell is still a record (its cell is rejected), not a failure. */
export const MAX_RECORD_CHARS = 16 << 20;

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
  ignoredColumns: Partial<Record<AttributeSource, string[]>>;
  bytesRead: number;
  bytesWritten: number;
  durationMs: number;
}

/** A whole input is unusable (missing, empty, wrong header): the message names the file. */
export class InputError extends Error {
  override name = 'InputError';
}

export function outputPaths(outDir: string, date: string) {
  const dated = path.join(outDir, `date=${date}`);
  return {
    dir: dated,
    joined: path.join(dated, JOINED_FILE),
    rejects: path.join(dated, REJECTS_FILE),
    columns: path.join(dated, COLUMNS_FILE),
    latest: path.join(outDir, JOINED_FILE),
  };
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

/** Removes hidden temporaries of our outputs left by a killed run (the DAG runs one at a time). */
async function removeStaleTemps(hdfs: HdfsClient, dir: string, names: string[], log: Logger): Promise<void> {
  if (!(await hdfs.exists(dir))) return;
  for (const entry of await hdfs.list(dir)) {
    if (names.some((n) => entry.name.startsWith(`.${n}.tmp-`))) {
      log.info({ path: entry.path }, 'removing temporary file of an earlier, interrupted run');
      await hdfs.delete(entry.path);
    }
  }
}

export async function runTransform(
  options: TransformOptions,
  deps: { hdfs: HdfsClient; log: Logger; metrics: TransformMetrics },
): Promise<TransformSummary> {
  const { hdfs, log, metrics } = deps;
  const started = Date.now();
  const out = outputPaths(options.outDir, options.date);

  // Fail fast and clearly: NameNode down, then each input present and non-empty, before any write.
  await hdfs.ping();
  const inputs = {} as Record<AttributeSource, { path: string; length: number }>;
  for (const source of ATTRIBUTE_SOURCES) {
    const p = path.join(options.rawDir, SOURCES[source].file);
    const entry = await hdfs.stat(p);
    if (!entry || entry.type !== 'FILE')
      throw new InputError(`input missing: hdfs://${p} (${SOURCES[source].file})`);
    if (entry.length === 0) throw new InputError(`input empty: hdfs://${p} (${SOURCES[source].file})`);
    inputs[source] = { path: p, length: entry.length };
  }
  const totalBytes = ATTRIBUTE_SOURCES.reduce((s, src) => s + inputs[src].length, 0);

  await hdfs.mkdirs(out.dir);
  await removeStaleTemps(hdfs, out.dir, [JOINED_FILE, REJECTS_FILE, COLUMNS_FILE], log);
  await removeStaleTemps(hdfs, options.outDir, [JOINED_FILE], log);

  const temps = {
    joined: tempPathFor(out.joined),
    latest: tempPathFor(out.latest),
    rejects: tempPathFor(out.rejects),
    columns: tempPathFor(out.columns),
  };
  const joinedStream = new PassThrough({ highWaterMark: 1 << 20 });
  const latestStream = new PassThrough({ highWaterMark: 1 << 20 });
  const rejectsStream = new PassThrough({ highWaterMark: 1 << 20 });
  const uploads = [
    hdfs.writeFile(temps.joined, joinedStream),
    hdfs.writeFile(temps.latest, latestStream),
    hdfs.writeFile(temps.rejects, rejectsStream),
  ];
  // Observed below; a failing upload must not become an unhandled rejection meanwhile.
  let uploadError: unknown;
  for (const u of uploads) u.catch((err: unknown) => (uploadError ??= err));

  const joined = new LineWriter([joinedStream, latestStream]);
  const rejects = new LineWriter([rejectsStream]);
  joined.write(joinedHeaderLine());
  const encoder = new JoinedRowEncoder((chunk) => joined.writeBytes(chunk));
  rejects.write(rejectsHeaderLine());
  let rejectLines = 0;
  let rowsJoined = 0;
  let bytesRead = 0;
  let stats: JoinStats | undefined;
  const ignoredColumns: Partial<Record<AttributeSource, string[]>> = {};

  const progress = setInterval(() => {
    log.info(
      { bytesRead, totalBytes, percent: Math.round((100 * bytesRead) / totalBytes), rowsJoined, rejectLines },
      'transform progress',
    );
  }, options.progressIntervalMs);
  progress.unref();

  const open = (source: AttributeSource): AsyncIterable<CsvRecord[]> => {
    const stream = hdfs.readStream(inputs[source].path).pipe(byteCounter((n) => (bytesRead += n)));
    return readCsvBatchesWithHeader(stream, headerOf(SOURCES[source]), SOURCES[source].file, {
      maxRecordChars: MAX_RECORD_CHARS,
      onHeader: ({ extra }) => {
        if (extra.length === 0) return;
        ignoredColumns[source] = extra;
        log.warn({ source, columns: extra }, 'ignoring columns that the source schema does not name');
      },
    });
  };

  try {
    stats = await cleanAndJoin(
      {
        income: open('income'),
        health_insurance: open('health_insurance'),
        self_employment: open('self_employment'),
      },
      {
        row: (r) => {
          rowsJoined++;
          encoder.write(r);
        },
        reject: (r) => {
          rejectLines++;
          rejects.write(formatReject(r));
        },
        drain: () => {
          if (uploadError) throw uploadError;
          encoder.flush();
          const a = joined.drain();
          const b = rejects.drain();
          return a || b ? Promise.all([a, b]).then(() => undefined) : undefined;
        },
      },
    );
    encoder.flush();
    await Promise.all([joined.end(), rejects.end()]);
    await Promise.all(uploads);
    const manifest = `${JSON.stringify(columnsManifest(), null, 2)}\n`;
    await hdfs.writeFile(temps.columns, manifest);

    // Everything is complete: move it into place, the latest copy last.
    await hdfs.rename(temps.rejects, out.rejects, { overwrite: true });
    await hdfs.rename(temps.columns, out.columns, { overwrite: true });
    await hdfs.rename(temps.joined, out.joined, { overwrite: true });
    await hdfs.rename(temps.latest, out.latest, { overwrite: true });

    metrics.bytesWritten.inc({ file: JOINED_FILE }, joined.bytes * 2);
    metrics.bytesWritten.inc({ file: REJECTS_FILE }, rejects.bytes);
    metrics.bytesWritten.inc({ file: COLUMNS_FILE }, Buffer.byteLength(manifest));
    return {
      date: options.date,
      ...stats,
      outputs: out,
      rejectLines,
      ignoredColumns,
      bytesRead,
      bytesWritten: joined.bytes * 2 + rejects.bytes + Buffer.byteLength(manifest),
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const failure = err instanceof HdfsError || !uploadError ? err : uploadError;
    for (const s of [joinedStream, latestStream, rejectsStream]) s.destroy(new Error('transform aborted'));
    await Promise.allSettled(uploads);
    await Promise.allSettled(Object.values(temps).map((t) => hdfs.delete(t)));
    throw failure;
  } finally {
    clearInterval(progress);
    if (stats) {
      for (const source of ATTRIBUTE_SOURCES) metrics.rowsIn.inc({ source }, stats.rowsIn[source]);
      metrics.rowsJoined.inc(stats.rowsJoined);
      for (const [reason, n] of Object.entries(stats.rejects)) metrics.rejects.inc({ reason }, n);
    }
  }
}
