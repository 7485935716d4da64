// Anchor of transform_hdfs, run as its own process by the bench: the same job with DuckDB doing
// the clean-and-join. Same endpoints as the task: the three source CSVs are read from HDFS over
// WebHDFS, and all_data_joined.csv (+ rejects) is written back to HDFS atomically. Prints one JSON
// line with the time of each phase.
//   node --import tsx bench/anchors/duckdb-transform.ts --raw-dir /bench/raw --out-dir /bench/anchor --work DIR
import { DuckDBInstance } from '@duckdb/node-api';
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { SOURCES, type SourceName } from '../../lib/sources.ts';
import { JOINED_SOURCES, transformAnchorSql } from './transform-sql.ts';

const opts = new Command('duckdb-transform')
  .requiredOption('--raw-dir <dir>', 'HDFS directory of the source CSVs')
  .requiredOption('--out-dir <dir>', 'HDFS directory of the joined output')
  .requiredOption('--work <dir>', 'local scratch directory')
  .option('--local', 'skip HDFS: read <work>/in/*.csv, write <work>/out.csv (pure DuckDB time)')
  .parse()
  .opts<{ rawDir: string; outDir: string; work: string; local?: boolean }>();

const config = loadConfig();
const hdfs = HdfsClient.fromConfig(config.hdfs);
const inDir = path.join(opts.work, 'in');
fs.mkdirSync(inDir, { recursive: true });
const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

const t0 = process.hrtime.bigint();
const inputs = Object.fromEntries(
  JOINED_SOURCES.map((s) => [s, path.join(inDir, SOURCES[s].file)]),
) as Record<SourceName, string>;
if (!opts.local) {
  await Promise.all(
    JOINED_SOURCES.map((s) =>
      pipeline(hdfs.readStream(`${opts.rawDir}/${SOURCES[s].file}`), fs.createWriteStream(inputs[s])),
    ),
  );
}
const downloadSeconds = seconds(t0);

const t1 = process.hrtime.bigint();
const outFile = path.join(opts.work, 'all_data_joined.csv');
const rejectsFile = path.join(opts.work, 'rejects.csv');
const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
for (const sql of transformAnchorSql(inputs, outFile, rejectsFile)) await db.run(sql);
const rows = Number((await db.runAndReadAll(`SELECT count(*) FROM clean_income`)).getRows()[0]![0]);
db.closeSync();
const duckdbSeconds = seconds(t1);

const t2 = process.hrtime.bigint();
if (!opts.local) {
  // As the task: the dated file, its rejects, and the latest copy one level up.
  await hdfs.mkdirs(`${opts.outDir}/date=anchor`);
  await Promise.all([
    hdfs.writeAtomic(`${opts.outDir}/date=anchor/all_data_joined.csv`, fs.createReadStream(outFile)),
    hdfs.writeAtomic(`${opts.outDir}/date=anchor/rejects.csv`, fs.createReadStream(rejectsFile)),
  ]);
  await hdfs.writeAtomic(`${opts.outDir}/all_data_joined.csv`, fs.createReadStream(outFile));
}
const uploadSeconds = seconds(t2);

process.stdout.write(
  `${JSON.stringify({ rowsIn: rows, downloadSeconds, duckdbSeconds, uploadSeconds, totalSeconds: seconds(t0), outBytes: fs.statSync(outFile).size })}\n`,
);
