// Micro-run of the two hot paths others build on: `tsx scripts/generate/bench-csv-clean.ts [rows]`.
// Generates a health-insurance file (134 columns) with 1% dirt, then measures lib/csv reading
// (rows/s) and lib/clean over every numeric cell (cells/s). Not a test: timings depend on the load.
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cleanerForHeader } from '../../lib/clean.ts';
import { readCsvBatchesWithHeader } from '../../lib/csv.ts';
import { headerOf, SOURCES } from '../../lib/sources.ts';
import { generateFiles } from './generate.ts';

const rows = Number(process.argv[2] ?? 250_000);
const dir = path.join(tmpdir(), `bench-csv-clean-${rows}`);
const source = SOURCES.health_insurance;
const header = headerOf(source);
const file = path.join(dir, source.file);

let t = performance.now();
await generateFiles({
  rows,
  outDir: dir,
  seed: 'bench',
  dirty: 0.01,
  sources: ['health_insurance'],
  lineEnding: 'crlf',
});
console.log(
  `generated ${rows} rows x ${header.length} columns in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

/** CPU seconds of this process since `since`: steadier than wall time on a shared machine. */
const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

// Pass 1: parse only.
t = performance.now();
let cpu = process.cpuUsage();
let parsed = 0;
for await (const batch of readCsvBatchesWithHeader(createReadStream(file), header, file))
  parsed += batch.length;
const parseSeconds = (performance.now() - t) / 1000;
console.log(
  `csv: ${parsed} rows in ${parseSeconds.toFixed(2)} s = ${Math.round(parsed / parseSeconds)} rows/s` +
    ` (${Math.round(parsed / cpuSeconds(cpu))} rows per CPU-second)`,
);

// Pass 2: clean every numeric cell of the parsed rows, kept in memory so only cleaning is timed.
const all: string[][] = [];
for await (const batch of readCsvBatchesWithHeader(createReadStream(file), header, file)) {
  for (const r of batch) all.push(r.fields);
}
const cleaners = header.map((h) => cleanerForHeader(h));
let cells = 0;
let nulls = 0;
t = performance.now();
cpu = process.cpuUsage();
for (const fields of all) {
  for (let c = 2; c < fields.length; c++) {
    const v = (cleaners[c] as (raw: string) => unknown)(fields[c] as string);
    if (v === null) nulls++;
    cells++;
  }
}
const cleanSeconds = (performance.now() - t) / 1000;
console.log(
  `clean: ${cells} cells in ${cleanSeconds.toFixed(2)} s = ${Math.round(cells / cleanSeconds)} cells/s` +
    ` (${Math.round(cells / cpuSeconds(cpu))} per CPU-second, ${nulls} null)`,
);
