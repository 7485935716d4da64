// Where a date's all_data_joined.csv comes from: HDFS (the pipeline) or a local directory laid out
// like HDFS /data/processed (tests, benchmarks). Yields CSV records in batches, header first.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config.ts';
import { readCsvBatches } from '../../lib/csv.ts';
import { HdfsClient } from '../../lib/hdfs.ts';

export interface JoinedSource {
  source: string;
  batches: AsyncIterable<readonly (readonly string[])[]>;
}

async function* fieldsOf(input: AsyncIterable<Buffer | string>, file: string): AsyncGenerator<string[][]> {
  for await (const batch of readCsvBatches(input)) {
    const bad = batch.find((r) => r.error !== undefined);
    if (bad) throw new Error(`${file}: line ${bad.line}: ${bad.error}`);
    yield batch.map((r) => r.fields);
  }
}

/** The joined rows of a date, or null when that date has no all_data_joined.csv. */
export async function openJoinedSource(config: Config, date: string, localDir?: string): Promise<JoinedSource | null> {
  const relative = `date=${date}/all_data_joined.csv`;
  if (localDir !== undefined) {
    const file = path.resolve(localDir, relative);
    if (!fs.existsSync(file)) return null;
    return { source: file, batches: fieldsOf(fs.createReadStream(file), file) };
  }
  const hdfsPath = `${config.hdfs.processedDir}/${relative}`;
  const hdfs = HdfsClient.fromConfig(config.hdfs);
  // A missing file is "no joined data for this date"; an unreachable NameNode throws (one line).
  if (!(await hdfs.exists(hdfsPath))) return null;
  return { source: `hdfs://${hdfsPath}`, batches: fieldsOf(hdfs.readStream(hdfsPath), hdfsPath) };
}
