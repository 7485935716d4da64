// Where a date's all_data_joined.csv comes from: HDFS (the pipeline) or a local directory laid out
// like HDFS /data/processed (tests, benchmarks). Yields CSV records in batches, header first.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config.ts';
import { readCsvBatches } from '../../lib/csv.ts';
import { HdfsClient } from '../../lib/hdfs.ts';

export interface JoinedSource {
  /** The file and its version (size, modification time): an unchanged file is not reloaded. */
  source: string;
  batches: AsyncIterable<readonly (readonly string[])[]>;
}

/** Lazy: the file is opened only when the rows are iterated (not at all when unchanged). */
async function* fieldsOf(
  open: () => AsyncIterable<Buffer | string>,
  file: string,
): AsyncGenerator<string[][]> {
  for await (const batch of readCsvBatches(open())) {
    const bad = batch.find((r) => r.error !== undefined);
    if (bad) throw new Error(`${file}: line ${bad.line}: ${bad.error}`);
    yield batch.map((r) => r.fields);
  }
}

/**
 * A joined file under the processed dir (`relative`), local under `localDir` or on HDFS, or null when
 * it does not exist. Its source string (path, size, modification time) tells a reload apart.
 */
async function openJoinedFile(
  config: Config,
  relative: string,
  localDir: string | undefined,
): Promise<JoinedSource | null> {
  if (localDir !== undefined) {
    const file = path.resolve(localDir, relative);
    if (!fs.existsSync(file)) return null;
    const st = fs.statSync(file);
    return {
      source: `${file}@${st.size}:${Math.floor(st.mtimeMs)}`,
      batches: fieldsOf(() => fs.createReadStream(file), file),
    };
  }
  const hdfsPath = `${config.hdfs.processedDir}/${relative}`;
  const hdfs = HdfsClient.fromConfig(config.hdfs);
  // A missing file is "no joined data"; an unreachable NameNode throws (one line).
  const st = await hdfs.stat(hdfsPath);
  if (st === undefined) return null;
  return {
    source: `hdfs://${hdfsPath}@${st.length}:${st.modificationTime}`,
    batches: fieldsOf(() => hdfs.readStream(hdfsPath), hdfsPath),
  };
}

/** The joined rows of a date, or null when that date has no all_data_joined.csv. */
export function openJoinedSource(
  config: Config,
  date: string,
  localDir?: string,
): Promise<JoinedSource | null> {
  return openJoinedFile(config, `date=${date}/all_data_joined.csv`, localDir);
}

/**
 * The latest all_data_joined.csv (transform_hdfs writes it beside the dated ones), or null when
 * there is none: the fallback of a --follow consumer for a date without a joined file of its own.
 */
export function openLatestJoinedSource(config: Config, localDir?: string): Promise<JoinedSource | null> {
  return openJoinedFile(config, 'all_data_joined.csv', localDir);
}
