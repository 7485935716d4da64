// Writes cube_analytics.db atomically: a new file is built beside the current one (other dates'
// rows copied from it, this date's rows added), made durable, then renamed over it. A reader holding
// the old file keeps a consistent snapshot; a new reader sees the complete new file; a crash at any
// point leaves the old file untouched (at worst a stray *.tmp-* file, removed by the next run).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import {
  CUBES,
  CUBE_NAMES,
  CUBE_RUNS_DDL,
  CUBE_RUNS_TABLE,
  columnsOf,
  createTableSql,
  type CubeName,
} from '../../lib/cubes.ts';
import { ChunkedInsert, quoteIdent } from '../../lib/sqlite.ts';
import type { CubeSink } from './cube-math.ts';
import { removeLeftovers } from '../../lib/task.ts';
import { withWriteLock } from './write-lock.ts';

export interface CubeRun {
  runId: string;
  date: string;
  builtAt: string;
  rowsIn: number;
  neighborhoods: number;
  unknownIncome: number;
  durationMs: number;
  source: string;
  /** The newest `producedAt` of the input rows (freshness of the build), null when unknown. */
  newestEventAt?: string | null;
}

export interface WriteResult {
  rowsOut: number;
  rowsKept: number;
  bytes: number;
  /** What the fill returned. */
  filled: FillResult;
}

const quote = quoteIdent;

/** What a fill wrote: rows per cube, and what it learnt about its input (overrides the run's). */
export interface FillResult {
  rowsOut: Record<CubeName, number>;
  input?: Partial<
    Pick<CubeRun, 'rowsIn' | 'neighborhoods' | 'unknownIncome' | 'newestEventAt' | 'durationMs'>
  >;
}

/**
 * Inserts the date's rows into the cube tables of `db` (the new file, still private). It runs
 * outside any transaction, so that it can ATTACH its input; it opens its own.
 */
export type CubeFill = (db: Database.Database) => FillResult;

/**
 * Columns of `schema`.`table` (none when it does not exist). The schema goes in as pragma_table_info's
 * second argument: a `prev.pragma_table_info(...)` prefix is ignored and finds main's table instead.
 */
function tableColumns(db: Database.Database, schema: string, table: string): string[] {
  return (
    db.prepare('SELECT name FROM pragma_table_info(?, ?)').all(table, schema) as { name: string }[]
  ).map((r) => r.name);
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes build files of earlier runs that died before their rename. */
function removeStaleTemps(cubeDbPath: string): void {
  removeLeftovers(path.dirname(cubeDbPath), `${path.basename(cubeDbPath)}.tmp-`);
}

/**
 * Replaces the rows of `run.date` in cube_analytics.db with the rows `emit` hands to its sink,
 * keeping every other date.
 * One writer at a time: a concurrent run waits for the lock file beside the db (write-lock.ts).
 */
export function writeCubeDb(
  cubeDbPath: string,
  emit: (sink: CubeSink) => void,
  run: CubeRun,
  lockWaitMs?: number,
): WriteResult {
  return writeCubeDbWith(cubeDbPath, fillFromSink(emit), run, lockWaitMs);
}

/** As writeCubeDb, the date's rows inserted by `fill` (cube-sql.ts: computed by SQLite itself). */
export function writeCubeDbWith(
  cubeDbPath: string,
  fill: CubeFill,
  run: CubeRun,
  lockWaitMs?: number,
): WriteResult {
  fs.mkdirSync(path.dirname(cubeDbPath), { recursive: true });
  return withWriteLock(`${cubeDbPath}.lock`, () => buildAndSwap(cubeDbPath, fill, run), lockWaitMs);
}

/** A new file with the catalogue's tables, set up for one private bulk build. */
function createBuildDb(tmp: string): Database.Database {
  const db = new Database(tmp);
  // The file only becomes visible after fsync + rename, so the build itself needs no journal.
  // `main.` only: an attached input (the consumer's WAL database) keeps its own modes.
  db.pragma('main.page_size = 16384');
  db.pragma('main.journal_mode = OFF');
  db.pragma('main.synchronous = OFF');
  db.pragma('main.locking_mode = EXCLUSIVE');
  db.pragma('temp_store = MEMORY');
  // 64 MB: with 128 MB the process peaked at ~490 MB (bound 500) for no faster write (measured).
  db.pragma('main.cache_size = -65536');
  // Sorts (ranks, roll-up order) get a helper thread (SQLite's default is none).
  db.pragma('threads = 2');
  for (const name of CUBE_NAMES) {
    const table = CUBES[name].table;
    db.exec(createTableSql(CUBES[name]));
    // The API filters by date and grain, then by neighborhood. Created first: the SQL fill inserts
    // in this order (cube-sql.ts).
    db.exec(
      `CREATE INDEX IF NOT EXISTS ${quote(`${table}_date_grain`)} ON ${quote(table)} (date, grain, neighborhood)`,
    );
  }
  db.exec(CUBE_RUNS_DDL);
  return db;
}

function buildAndSwap(cubeDbPath: string, fill: CubeFill, run: CubeRun): WriteResult {
  removeStaleTemps(cubeDbPath);
  const tmp = `${cubeDbPath}.tmp-${process.pid}-${Date.now()}`;
  let db: Database.Database | undefined;
  try {
    db = createBuildDb(tmp);
    const rowsKept = fs.existsSync(cubeDbPath) ? copyOtherDates(db, cubeDbPath, run.date) : 0;
    const filled = fill(db);
    const rowsOut = Object.values(filled.rowsOut).reduce((a, b) => a + b, 0);
    insertRun(db, { ...run, ...filled.input }, rowsOut);
    db.pragma('main.journal_mode = DELETE');
    // Readers (the API) must not find the file locked once it is renamed into place.
    db.pragma('main.locking_mode = NORMAL');
    db.prepare('SELECT 1 FROM cube_runs LIMIT 1').get();
    db.close();
    fsyncFile(tmp);
    const bytes = fs.statSync(tmp).size;
    fs.renameSync(tmp, cubeDbPath);
    fsyncDir(path.dirname(cubeDbPath));
    return { rowsOut, rowsKept, bytes, filled };
  } catch (err) {
    if (db?.open) db.close();
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function insertRun(db: Database.Database, run: CubeRun, rowsOut: number): void {
  db.prepare(
    `INSERT INTO ${CUBE_RUNS_TABLE} (run_id, date, built_at, rows_in, neighborhoods, unknown_income, rows_out, duration_ms, source, newest_event_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    run.runId,
    run.date,
    run.builtAt,
    run.rowsIn,
    run.neighborhoods,
    run.unknownIncome,
    rowsOut,
    run.durationMs,
    run.source,
    run.newestEventAt ?? null,
  );
}

function fsyncDir(dir: string): void {
  try {
    fsyncFile(dir);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

/**
 * Runs kept per date in cube_runs, the newest: a --follow build every 30 s would otherwise add
 * 2,880 rows a day, each copied into every later build. 1,000 is about 8 hours of such builds.
 */
export const CUBE_RUNS_KEPT_PER_DATE = 1000;

/** Copies every other date's rows from the current file; columns added to the catalogue since stay NULL. */
function copyOtherDates(db: Database.Database, cubeDbPath: string, date: string): number {
  db.prepare('ATTACH DATABASE ? AS prev').run(cubeDbPath);
  try {
    return db.transaction(() => copyTables(db, date))();
  } finally {
    db.exec('DETACH DATABASE prev');
  }
}

function copyTables(db: Database.Database, date: string): number {
  let copied = 0;
  const tables = [...CUBE_NAMES.map((n) => CUBES[n].table)];
  for (const table of tables) {
    const old = new Set(tableColumns(db, 'prev', table));
    if (old.size === 0) continue;
    const cols = tableColumns(db, 'main', table)
      .filter((c) => old.has(c))
      .map(quote)
      .join(', ');
    copied += db
      .prepare(
        `INSERT INTO main.${quote(table)} (${cols}) SELECT ${cols} FROM prev.${quote(table)} WHERE date <> ?`,
      )
      .run(date).changes;
  }
  const oldRuns = new Set(tableColumns(db, 'prev', CUBE_RUNS_TABLE));
  if (oldRuns.size > 0) {
    const cols = tableColumns(db, 'main', CUBE_RUNS_TABLE)
      .filter((c) => oldRuns.has(c))
      .map(quote)
      .join(', ');
    // The newest runs of each date, one fewer for the date being built (its run row comes next).
    db.prepare(
      `INSERT OR IGNORE INTO main.${CUBE_RUNS_TABLE} (${cols}) SELECT ${cols} FROM (
         SELECT *, row_number() OVER (PARTITION BY date ORDER BY built_at DESC) AS newest
         FROM prev.${CUBE_RUNS_TABLE}) WHERE newest <= ? - (date = ?)`,
    ).run(CUBE_RUNS_KEPT_PER_DATE, date);
  }
  return copied;
}

/** A fill from rows handed over one by one (the reference maths of cube-math.ts, tests). */
export function fillFromSink(emit: (sink: CubeSink) => void): CubeFill {
  return (db) => {
    const rowsOut: Record<CubeName, number> = { health_insurance: 0, income: 0, self_employment: 0 };
    db.transaction(() => {
      const insert = rowInserters(db);
      emit((cube, row) => {
        insert[cube].add(row);
        rowsOut[cube]++;
      });
      for (const name of CUBE_NAMES) insert[name].flush();
    })();
    return { rowsOut };
  };
}

/** Buffered multi-row INSERTs per cube, columns in catalogue order. */
function rowInserters(db: Database.Database): Record<CubeName, ChunkedInsert<Record<string, unknown>>> {
  const make = (name: CubeName) => {
    const cube = CUBES[name];
    const cols = columnsOf(cube).map((c) => c.name);
    return new ChunkedInsert<Record<string, unknown>>(db, {
      head: `INSERT INTO ${quote(cube.table)} (${cols.map(quote).join(', ')})`,
      width: cols.length,
      bind: (params, at, row) => {
        for (let i = 0; i < cols.length; i++) params[at + i] = row[cols[i]!] ?? null;
      },
    });
  };
  return {
    health_insurance: make('health_insurance'),
    income: make('income'),
    self_employment: make('self_employment'),
  };
}
