// Uploads the four source CSVs of a folder to HDFS_RAW_DIR (npm run pipeline, npm run live).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { SOURCES } from '../../lib/sources.ts';

/** Streams each source CSV of `dir` to <rawDir>/<file> atomically; fails naming the missing file. */
export async function uploadSources(
  config: Config,
  dir: string,
  say: (message: string) => void,
): Promise<void> {
  const files = Object.values(SOURCES).map((s) => s.file);
  for (const file of files) {
    const local = path.join(dir, file);
    const info = await stat(local).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`source file missing: ${local}`);
  }
  const hdfs = HdfsClient.fromConfig(config.hdfs);
  await hdfs.ping();
  await hdfs.mkdirs(config.hdfs.rawDir);
  for (const file of files) {
    const started = process.hrtime.bigint();
    const target = path.posix.join(config.hdfs.rawDir, file);
    await hdfs.writeAtomic(target, createReadStream(path.join(dir, file)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    say(`uploaded ${file} -> ${config.hdfs.url}${target} (${seconds.toFixed(2)} s)`);
  }
}
