// The API's view of cube_analytics.db. compute-cube publishes a new file by renaming it over the
// old one; this store notices (an fs.stat of the path, at most once per `checkIntervalMs`, so the
// hot path pays one Date.now()) and opens the new file. The old connection is closed only after a
// grace period: the inode it holds stays readable after the rename, so a request that took the old
// snapshot finishes on consistent data and none fails during a swap.
import type { Statement } from 'better-sqlite3';
import fs from 'node:fs';
import { CUBES, CUBE_NAMES, type CubeDefinition } from '../lib/cubes.ts';
import type { Logger } from '../lib/log.ts';
import { openReadonly, type Db } from '../lib/sqlite.ts';
import { HttpError } from './http-error.ts';

/** Lower-cases ASCII letters only, as SQLite's NOCASE collation compares. */
export const foldAscii = (text: string): string => text.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** One opened version of the cube db. Everything derived from it (statements, dates) lives here. */
export class CubeSnapshot {
  private readonly statements = new Map<string, Statement>();
  private readonly datesByTable = new Map<string, string[]>();
  private readonly neighborhoodsByDate = new Map<string, Set<string>>();
  readonly tables: ReadonlySet<string>;

  constructor(
    readonly db: Db,
    /** dev:ino:size:mtime of the file: changes with every published build. */
    readonly identity: string,
    /** Increments with every reopen: a cheap key for per-version caches. */
    readonly generation: number,
  ) {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    this.tables = new Set(rows.map((r) => r.name));
  }

  /** Tables of the catalogue missing from the file (a db being set up, or from another version). */
  missingTables(): string[] {
    return CUBE_NAMES.map((n) => CUBES[n].table).filter((t) => !this.tables.has(t));
  }

  /** A prepared statement, cached per query shape: `sql` must come from catalogue names only. */
  statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Dates that have rows in a cube, latest first (memoised: a snapshot never changes). */
  dates(cube: CubeDefinition): string[] {
    let dates = this.datesByTable.get(cube.table);
    if (!dates) {
      if (!this.tables.has(cube.table)) {
        throw new HttpError(
          503,
          'cube_unavailable',
          `cube ${cube.name} is not built yet in the cube database`,
        );
      }
      dates = this.statement(`SELECT DISTINCT "date" FROM "${cube.table}" ORDER BY "date" DESC`)
        .pluck()
        .all() as string[];
      this.datesByTable.set(cube.table, dates);
    }
    return dates;
  }

  /** Neighborhood names of a cube on a date, folded like SQLite's NOCASE (ASCII letters only). */
  neighborhoods(cube: CubeDefinition, date: string): Set<string> {
    const key = `${cube.table}\0${date}`;
    let names = this.neighborhoodsByDate.get(key);
    if (!names) {
      const rows = this.statement(
        `SELECT DISTINCT "neighborhood" FROM "${cube.table}" WHERE "date" = ? AND "neighborhood" IS NOT NULL`,
      )
        .pluck()
        .all(date) as string[];
      names = new Set(rows.map(foldAscii));
      this.neighborhoodsByDate.set(key, names);
    }
    return names;
  }

  /** The latest date of any cube, or null when every cube is empty. */
  latestDate(): string | null {
    let latest: string | null = null;
    for (const name of CUBE_NAMES) {
      if (!this.tables.has(CUBES[name].table)) continue;
      const d = this.dates(CUBES[name])[0];
      if (d !== undefined && (latest === null || d > latest)) latest = d;
    }
    return latest;
  }
}

export interface CubeStoreOptions {
  checkIntervalMs?: number;
  /** How long a replaced connection stays open for requests that still hold it. */
  closeGraceMs?: number;
  logger?: Logger;
  onReload?: (snapshot: CubeSnapshot) => void;
}

function identityOf(st: fs.Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

export class CubeStore {
  private current: CubeSnapshot | undefined;
  private lastCheck = -Infinity;
  private generation = 0;
  private problem = 'not opened yet';
  private readonly checkIntervalMs: number;
  private readonly closeGraceMs: number;
  private readonly retiring = new Set<{ db: Db; timer: NodeJS.Timeout }>();

  constructor(
    readonly file: string,
    private readonly options: CubeStoreOptions = {},
  ) {
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.closeGraceMs = options.closeGraceMs ?? 10_000;
  }

  /** The current snapshot; throws a 503 HttpError when the cube db cannot be read. */
  snapshot(): CubeSnapshot {
    this.currentSnapshot();
    if (!this.current)
      throw new HttpError(503, 'cube_db_unavailable', `cube database unavailable: ${this.problem}`);
    return this.current;
  }

  /** The current snapshot (checking for a swap on the timer), or undefined: never throws. */
  currentSnapshot(): CubeSnapshot | undefined {
    const now = Date.now();
    if (now - this.lastCheck >= this.checkIntervalMs) {
      this.lastCheck = now;
      this.refresh();
    }
    return this.current;
  }

  /** Checks the file now and reopens it if it changed; returns why it is not usable, if it is not. */
  refresh(): string | undefined {
    let opened: { db: Db; identity: string } | undefined;
    for (let attempt = 0; attempt < 3 && !opened; attempt++) {
      const before = this.stat();
      if ('problem' in before) return this.fail(before.problem);
      if (this.current?.identity === before.identity) {
        this.problem = '';
        return undefined;
      }
      let db: Db;
      try {
        db = openReadonly(this.file);
      } catch (err) {
        return this.fail(`cannot open the cube database: ${(err as Error).message}`);
      }
      // A rename between the stat and the open would give the new file the old file's identity
      // (and so its ETags): the identity is trusted only if the path did not change meanwhile.
      const after = this.stat();
      if ('identity' in after && after.identity === before.identity)
        opened = { db, identity: before.identity };
      else db.close();
    }
    if (!opened) return this.fail('the cube database kept changing while being opened');
    let next: CubeSnapshot;
    try {
      next = new CubeSnapshot(opened.db, opened.identity, ++this.generation);
    } catch (err) {
      opened.db.close();
      return this.fail(`cannot read the cube database: ${(err as Error).message}`);
    }
    const identity = opened.identity;
    const previous = this.current;
    this.current = next;
    this.problem = '';
    if (previous) this.retire(previous.db);
    this.options.logger?.info(
      { identity, generation: next.generation },
      previous ? 'cube database reopened' : 'cube database opened',
    );
    this.options.onReload?.(next);
    return undefined;
  }

  /** Readiness: present, readable, every cube table there. Checks the file now, not on the timer. */
  readiness(): { ready: true; snapshot: CubeSnapshot } | { ready: false; reason: string } {
    const problem = this.refresh();
    if (problem !== undefined || !this.current) return { ready: false, reason: problem ?? this.problem };
    try {
      this.current.db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      return { ready: false, reason: `cube database unreadable: ${(err as Error).message}` };
    }
    const missing = this.current.missingTables();
    if (missing.length > 0) return { ready: false, reason: `cube tables missing: ${missing.join(', ')}` };
    return { ready: true, snapshot: this.current };
  }

  /** The file's identity, or why it cannot be had. */
  private stat(): { identity: string } | { problem: string } {
    try {
      const st = fs.statSync(this.file, { throwIfNoEntry: false });
      return st
        ? { identity: identityOf(st) }
        : { problem: 'the cube database file does not exist (run compute-cube)' };
    } catch (err) {
      return { problem: `cannot stat the cube database: ${(err as Error).message}` };
    }
  }

  close(): void {
    for (const r of this.retiring) {
      clearTimeout(r.timer);
      r.db.close();
    }
    this.retiring.clear();
    this.current?.db.close();
    this.current = undefined;
    this.problem = 'closed';
  }

  /**
   * A vanished file keeps the last snapshot serving (its inode is still readable): a missing file
   * between two builds must not turn into failed requests. Readiness reports it.
   */
  private fail(problem: string): string {
    if (this.problem !== problem) this.options.logger?.warn({ file: this.file }, problem);
    this.problem = problem;
    return problem;
  }

  private retire(db: Db): void {
    const entry = {
      db,
      timer: setTimeout(() => {
        this.retiring.delete(entry);
        db.close();
      }, this.closeGraceMs).unref(),
    };
    this.retiring.add(entry);
  }
}
