// Untimed preparation of the compute_cube anchor: copies the rows of one date of base_de_donnees.db
// (`events`, `joined_attributes`) into a DuckDB file, through CSV (DuckDB's SQLite reader is an
// extension it would download, which this machine cannot). Prints one JSON line.
//   node --import tsx bench/anchors/sqlite-to-duckdb.ts --sqlite base.db --duckdb out.duckdb --date D --work DIR
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { formatCsvLine } from '../../lib/csv.ts';
import { EVENT_VIEW_COLUMNS } from '../../tasks/consumer/store.ts';
import { quoteLiteral } from './transform-sql.ts';

const opts = new Command('sqlite-to-duckdb')
  .requiredOption('--sqlite <file>')
  .requiredOption('--duckdb <file>')
  .requiredOption('--date <YYYY-MM-DD>')
  .requiredOption('--work <dir>')
  .parse()
  .opts<{ sqlite: string; duckdb: string; date: string; work: string }>();

// The cubes do not read the margin of error: the anchor copies only what it uses.
const EVENT_COLUMNS = EVENT_VIEW_COLUMNS.filter((c) => c !== 'population_margin_of_error_total');

/** Streams a SELECT to a CSV file with a header; returns the row count. */
function exportCsv(db: Database.Database, sql: string, file: string): number {
  const stmt = db.prepare(sql).raw();
  const columns = stmt.columns().map((c) => c.name);
  const fd = fs.openSync(file, 'w');
  let rows = 0;
  let buffer = formatCsvLine(columns);
  for (const row of stmt.iterate(opts.date) as IterableIterator<(string | number | null)[]>) {
    buffer += formatCsvLine(row);
    rows++;
    if (buffer.length > 1 << 20) {
      fs.writeSync(fd, buffer);
      buffer = '';
    }
  }
  fs.writeSync(fd, buffer);
  fs.closeSync(fd);
  return rows;
}

fs.mkdirSync(opts.work, { recursive: true });
fs.rmSync(opts.duckdb, { force: true });
const sqlite = new Database(opts.sqlite, { readonly: true });
const eventsCsv = path.join(opts.work, 'events.csv');
const attributesCsv = path.join(opts.work, 'joined_attributes.csv');
const events = exportCsv(sqlite, `SELECT ${EVENT_COLUMNS.join(', ')} FROM events WHERE date = ?`, eventsCsv);
const attributes = exportCsv(sqlite, `SELECT * FROM joined_attributes WHERE date = ?`, attributesCsv);
sqlite.close();

const instance = await DuckDBInstance.create(opts.duckdb);
const db = await instance.connect();
await db.run(
  `CREATE TABLE events AS SELECT * FROM read_csv(${quoteLiteral(eventsCsv)}, header = true, types = {'date': 'VARCHAR', 'neighborhood': 'VARCHAR', 'event_id': 'VARCHAR'})`,
);
await db.run(
  `CREATE TABLE joined_attributes AS SELECT * FROM read_csv(${quoteLiteral(attributesCsv)}, header = true, sample_size = -1, types = {'date': 'VARCHAR', 'neighborhood': 'VARCHAR'})`,
);
await db.run('CHECKPOINT');
db.closeSync();
fs.rmSync(eventsCsv);
fs.rmSync(attributesCsv);
process.stdout.write(`${JSON.stringify({ events, attributes })}\n`);
