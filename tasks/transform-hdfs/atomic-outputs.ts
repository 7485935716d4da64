// The outputs of one transform run, written atomically: every file is streamed to a hidden temporary
// sibling (lib/hdfs tempPathFor) and only renamed into place by commit(), once all of them are
// complete: rejects.csv, columns.json, the dated all_data_joined.csv, then the latest copy (each
// rename atomic, with overwrite). abort() removes the temporaries, so a failure or a kill before the
// renames leaves the previous files untouched; temporaries of a killed run are removed by the next
// open(). The latest copy is written from the same bytes as the dated file (two concurrent uploads
// of one stream) instead of reading the dated file back.
import path from 'node:path/posix';
import { PassThrough } from 'node:stream';
import { HdfsError, tempPathFor, type HdfsClient } from '../../lib/hdfs.ts';
import type { Logger } from '../../lib/log.ts';
import type { Reject } from './clean-source.ts';
import type { JoinedRow } from './join.ts';
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

export interface OutputPaths {
  dir: string;
  joined: string;
  rejects: string;
  columns: string;
  latest: string;
}

export function outputPaths(outDir: string, date: string): OutputPaths {
  const dated = path.join(outDir, `date=${date}`);
  return {
    dir: dated,
    joined: path.join(dated, JOINED_FILE),
    rejects: path.join(dated, REJECTS_FILE),
    columns: path.join(dated, COLUMNS_FILE),
    latest: path.join(outDir, JOINED_FILE),
  };
}

/** Bytes written per file, known once committed. */
export interface WrittenBytes {
  joined: number;
  rejects: number;
  columns: number;
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

export class AtomicOutputs {
  private readonly temps: Record<'joined' | 'latest' | 'rejects' | 'columns', string>;
  private readonly streams: PassThrough[];
  private readonly uploads: Promise<void>[];
  /** The first failed upload: observed at the next drain, so it never goes unhandled meanwhile. */
  private uploadError: unknown;
  private readonly joined: LineWriter;
  private readonly rejects: LineWriter;
  private readonly encoder: JoinedRowEncoder;

  /** Creates the output directory, removes stale temporaries and starts the uploads. */
  static async open(hdfs: HdfsClient, outDir: string, out: OutputPaths, log: Logger): Promise<AtomicOutputs> {
    await hdfs.mkdirs(out.dir);
    await removeStaleTemps(hdfs, out.dir, [JOINED_FILE, REJECTS_FILE, COLUMNS_FILE], log);
    await removeStaleTemps(hdfs, outDir, [JOINED_FILE], log);
    return new AtomicOutputs(hdfs, out);
  }

  private constructor(
    private readonly hdfs: HdfsClient,
    private readonly out: OutputPaths,
  ) {
    this.temps = {
      joined: tempPathFor(out.joined),
      latest: tempPathFor(out.latest),
      rejects: tempPathFor(out.rejects),
      columns: tempPathFor(out.columns),
    };
    const [joinedStream, latestStream, rejectsStream] = [1, 2, 3].map(
      () => new PassThrough({ highWaterMark: 1 << 20 }),
    ) as [PassThrough, PassThrough, PassThrough];
    this.streams = [joinedStream, latestStream, rejectsStream];
    this.uploads = [
      hdfs.writeFile(this.temps.joined, joinedStream),
      hdfs.writeFile(this.temps.latest, latestStream),
      hdfs.writeFile(this.temps.rejects, rejectsStream),
    ];
    for (const u of this.uploads) u.catch((err: unknown) => (this.uploadError ??= err));
    this.joined = new LineWriter([joinedStream, latestStream]);
    this.rejects = new LineWriter([rejectsStream]);
    this.joined.write(joinedHeaderLine());
    this.encoder = new JoinedRowEncoder((chunk) => this.joined.writeBytes(chunk));
    this.rejects.write(rejectsHeaderLine());
  }

  row(row: JoinedRow): void {
    this.encoder.write(row);
  }

  reject(reject: Reject): void {
    this.rejects.write(formatReject(reject));
  }

  /** Backpressure: a promise when a stream is full; throws the first failed upload. */
  drain(): Promise<void> | undefined {
    if (this.uploadError) throw this.uploadError;
    this.encoder.flush();
    const a = this.joined.drain();
    const b = this.rejects.drain();
    return a || b ? Promise.all([a, b]).then(() => undefined) : undefined;
  }

  /** Completes every file, then moves them into place, the latest copy last. */
  async commit(): Promise<WrittenBytes> {
    this.encoder.flush();
    await Promise.all([this.joined.end(), this.rejects.end()]);
    await Promise.all(this.uploads);
    const manifest = `${JSON.stringify(columnsManifest(), null, 2)}\n`;
    await this.hdfs.writeFile(this.temps.columns, manifest);

    await this.hdfs.rename(this.temps.rejects, this.out.rejects, { overwrite: true });
    await this.hdfs.rename(this.temps.columns, this.out.columns, { overwrite: true });
    await this.hdfs.rename(this.temps.joined, this.out.joined, { overwrite: true });
    await this.hdfs.rename(this.temps.latest, this.out.latest, { overwrite: true });
    return {
      joined: this.joined.bytes * 2,
      rejects: this.rejects.bytes,
      columns: Buffer.byteLength(manifest),
    };
  }

  /**
   * Stops the uploads and removes every temporary. Returns the error to report: `err`, unless an
   * upload failed first and `err` is only its consequence.
   */
  async abort(err: unknown): Promise<unknown> {
    const failure = err instanceof HdfsError || !this.uploadError ? err : this.uploadError;
    for (const s of this.streams) s.destroy(new Error('transform aborted'));
    await Promise.allSettled(this.uploads);
    await Promise.allSettled(Object.values(this.temps).map((t) => this.hdfs.delete(t)));
    return failure;
  }
}
