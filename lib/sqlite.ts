// Opens SQLite files with the pragmas every writer and reader of this project needs.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

export interface WritableOptions {
  /** SQLite page cache of this connection, MB (it fills up to this size and stays resident). */
  cacheMb?: number;
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
  db.pragma('busy_timeout = 10000');
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
