// Anchor of compute_cube, run as its own process by the bench: DuckDB computes the same cubes from a
// DuckDB file holding the same rows as base_de_donnees.db (`events`, `joined_attributes`; prepared
// by sqlite-to-duckdb.ts, untimed) and stores them as tables in that file. Prints one JSON line.
//   node --import tsx bench/anchors/duckdb-cube.ts --db FILE --date D
import { DuckDBInstance } from '@duckdb/node-api';
import { Command } from 'commander';
import { cubeAnchorSql } from './cube-sql.ts';

const opts = new Command('duckdb-cube')
  .requiredOption('--db <file>', 'DuckDB file with events and joined_attributes')
  .requiredOption('--date <YYYY-MM-DD>', 'logical date')
  .parse()
  .opts<{ db: string; date: string }>();

const started = process.hrtime.bigint();
const instance = await DuckDBInstance.create(opts.db);
const db = await instance.connect();
for (const sql of cubeAnchorSql(opts.date)) await db.run(sql);
const count = async (table: string): Promise<number> =>
  Number((await db.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]![0]);
const result = {
  events: await count(`events WHERE date = '${opts.date}'`),
  neighborhoods: await count('members'),
  cubeRows: {
    income: await count('cube_income'),
    health_insurance: await count('cube_health_insurance'),
    self_employment: await count('cube_self_employment'),
  },
  seconds: Number(process.hrtime.bigint() - started) / 1e9,
};
db.closeSync();
process.stdout.write(`${JSON.stringify(result)}\n`);
