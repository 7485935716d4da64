// The cube input of one date, read by SQLite itself: base_de_donnees.db is attached to the new cube
// file and its donnees_formatees_latest holds, per date x Id, the latest population event joined with
// that Id's attributes (docs/CONTRACTS.md), so the producer's repeated loops never change a cube.
// Only the columns the cubes use are read; cube-sql.ts turns them into the cubes' rows.
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import { CUBE_NAMES, type CubeName } from '../../lib/cubes.ts';
import type { FillResult } from './cube-db.ts';
import { ATTRIBUTE_COLUMNS, POPULATION_COLUMN } from './cube-math.ts';
import {
  DROP_FACTS_SQL,
  FACTS_SUMMARY_SQL,
  INPUT_SCHEMA,
  INPUT_VIEW,
  PRODUCED_AT_COLUMN,
  cubeInsertsSql,
  loadFactsSql,
} from './cube-sql.ts';

export { INPUT_VIEW };

/** The input is unusable (no database, no view, a missing column, no row for the date). */
export class CubeInputError extends Error {
  override name = 'CubeInputError';
}

export const INPUT_COLUMNS: readonly string[] = [
  'id',
  'neighborhood',
  POPULATION_COLUMN,
  ...ATTRIBUTE_COLUMNS,
];

/** Milliseconds of a fill from the input: reading the facts, then computing and inserting the cubes. */
export interface FillTimings {
  readMs: number;
  computeMs: number;
}

/** Whether the view carries produced_at; throws CubeInputError when it is missing or lacks a column. */
function checkInput(db: Database.Database, dbPath: string): boolean {
  const isView = db
    .prepare(`SELECT 1 FROM ${INPUT_SCHEMA}.sqlite_master WHERE name = ? AND type IN ('view', 'table')`)
    .get(INPUT_VIEW);
  if (!isView) throw new CubeInputError(`${dbPath} has no ${INPUT_VIEW} (run the consumer first)`);
  const present = new Set(
    (
      db.prepare(`SELECT name FROM pragma_table_info(?, ?)`).all(INPUT_VIEW, INPUT_SCHEMA) as {
        name: string;
      }[]
    ).map((r) => r.name),
  );
  const missing = INPUT_COLUMNS.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new CubeInputError(
      `${INPUT_VIEW} lacks ${missing.length} column(s): ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
    );
  }
  return present.has(PRODUCED_AT_COLUMN);
}

/** Attaches the input, loads the date's facts into a temporary table, detaches it. */
function loadFacts(db: Database.Database, dbPath: string, date: string): NonNullable<FillResult['input']> {
  if (!fs.existsSync(dbPath))
    throw new CubeInputError(`database not found: ${dbPath} (run the consumer first)`);
  db.prepare(`ATTACH DATABASE ? AS ${INPUT_SCHEMA}`).run(dbPath);
  try {
    const [create, insert, ...rest] = loadFactsSql(checkInput(db, dbPath));
    db.exec(create!);
    // One statement: one consistent snapshot of the input, even while a consumer commits.
    db.prepare(insert!).run(date);
    for (const sql of rest) db.exec(sql);
  } finally {
    db.exec(`DETACH DATABASE ${INPUT_SCHEMA}`);
  }
  const summary = db.prepare(FACTS_SUMMARY_SQL).get() as {
    rowsIn: number;
    unknownIncome: number;
    newestEventAt: string | null;
  };
  if (summary.rowsIn === 0)
    throw new CubeInputError(
      `no rows for date ${date} in ${INPUT_VIEW} of ${dbPath} (did the consumer run for this date?)`,
    );
  return { ...summary, neighborhoods: summary.rowsIn };
}

/** A fill of the date's cubes from base_de_donnees.db, computed by SQLite (cube-sql.ts). */
export function fillFromInput(
  dbPath: string,
  date: string,
  timings?: FillTimings,
): (db: Database.Database) => FillResult {
  return (db) => {
    const t0 = performance.now();
    const input = loadFacts(db, dbPath, date);
    const t1 = performance.now();
    const rowsOut = {} as Record<CubeName, number>;
    db.transaction(() => {
      for (const name of CUBE_NAMES) {
        rowsOut[name] = 0;
        for (const { sql, insertsRows } of cubeInsertsSql(name)) {
          if (insertsRows) rowsOut[name] += db.prepare(sql).run(date).changes;
          else db.exec(sql);
        }
      }
      for (const sql of DROP_FACTS_SQL) db.exec(sql);
    })();
    if (timings) {
      timings.readMs = t1 - t0;
      timings.computeMs = performance.now() - t1;
    }
    return { rowsOut, input };
  };
}
