// Opens SQLite files with the pragmas every writer and reader of this project needs.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;
export type Statement = Database.Statement;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's own constraint
export type Transaction<F extends (...args: any[]) => unknown> = Database.Transaction<F>;

export interface WritableOptions {
  /** SQLite page cache of this connection, MB (it fills up to this size and stays resident). */
  cacheMb?: number;
  /** How long a statement waits for another connection's lock before SQLITE_BUSY (default 10 s). */
  busyTimeoutMs?: number;
}

/** The error SQLite gives when another connection held the lock for the whole busy timeout. */
export function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_BUSY';
}

/**
 * A writable database in WAL mode: concurrent readers, one writer, fsync at checkpoints. Temporary
 * tables and sorts spill to a temporary file beyond their (2 MB) cache, so a large staging table
 * or sort costs disk, not resident memory.
 */
export function openWritable(file: string, options: WritableOptions = {}): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${Math.round(options.busyTimeoutMs ?? 10_000)}`);
  db.pragma('temp_store = FILE');
  db.pragma(`cache_size = ${-Math.round((options.cacheMb ?? 64) * 1024)}`);
  return db;
}

/** A read-only connection (the API, checks): it cannot change the file whatever SQL reaches it. */
export function openReadonly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('query_only = ON');
  return db;
}

/**
 * An SQL identifier (table or column name), double-quoted with any inner quote doubled: whatever the
 * name, it reaches SQL as one identifier. Callers that only accept some names check them first.
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Most parameters one statement binds (SQLite's default SQLITE_MAX_VARIABLE_NUMBER). */
export const MAX_PARAMS = 32766;

export interface ChunkedInsertSpec<T> {
  /** The statement up to VALUES, e.g. `INSERT OR IGNORE INTO t (a, b)`. */
  head: string;
  /** Parameters per row. */
  width: number;
  /** What follows the VALUES list (an ON CONFLICT clause), if anything. */
  tail?: string;
  /** Rows per statement (default: 128, fewer when that would pass MAX_PARAMS). */
  rowsPerStatement?: number;
  /** Writes one row's `width` parameters at `params[at..]`. */
  bind: (params: unknown[], at: number, row: T) => void;
}

/**
 * Buffered multi-row INSERTs of one shape: rows are bound into one statement of `rowsPerStatement`
 * rows (one VM run and one native call per chunk instead of per row); `flush` writes the rest
 * one row at a time. Counts SQLite's changes (rows inserted or updated).
 */
export class ChunkedInsert<T> {
  readonly rowsPerStatement: number;
  private readonly params: unknown[];
  private readonly full: Statement;
  private single: Statement | undefined;
  private filled = 0;
  private changes = 0;

  constructor(
    private readonly db: Db,
    private readonly spec: ChunkedInsertSpec<T>,
  ) {
    this.rowsPerStatement =
      spec.rowsPerStatement ?? Math.max(1, Math.min(128, Math.floor(MAX_PARAMS / spec.width)));
    this.params = new Array<unknown>(this.rowsPerStatement * spec.width);
    this.full = db.prepare(this.sql(this.rowsPerStatement));
  }

  private sql(rows: number): string {
    const tuple = `(${new Array(this.spec.width).fill('?').join(', ')})`;
    return `${this.spec.head} VALUES ${new Array(rows).fill(tuple).join(', ')} ${this.spec.tail ?? ''}`;
  }

  add(row: T): void {
    this.spec.bind(this.params, this.filled * this.spec.width, row);
    if (++this.filled === this.rowsPerStatement) {
      this.changes += this.full.run(this.params).changes;
      this.filled = 0;
    }
  }

  /** Writes the buffered rows; returns the changes counted since the last flush. */
  flush(): number {
    if (this.filled > 0) {
      // The rest goes one row at a time: preparing a statement of their size would cost more (a
      // wide statement takes milliseconds to prepare) and caching every size would hold many.
      this.single ??= this.db.prepare(this.sql(1));
      const width = this.spec.width;
      for (let r = 0; r < this.filled; r++) {
        this.changes += this.single.run(this.params.slice(r * width, (r + 1) * width)).changes;
      }
      this.filled = 0;
    }
    const changes = this.changes;
    this.changes = 0;
    return changes;
  }

  /** Adds every row and flushes: the changes of these rows. */
  insertAll(rows: Iterable<T>): number {
    for (const row of rows) this.add(row);
    return this.flush();
  }
}
