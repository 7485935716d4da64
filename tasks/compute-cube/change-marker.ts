// The cheap "did donnees_formatees change?" check of `compute-cube --follow`.
//
// Every change to the rows behind donnees_formatees goes through one of two consumer transactions:
// a batch commit, which writes its events AND moves its partition's `kafka_offsets` row in the same
// transaction (that is the consumer's exactly-once design), or a load of a date's joined attributes,
// which replaces the date's `joined_loads` row (source, loaded_at) in the transaction that swaps the
// rows. So the offsets of every group plus the date's joined load are a commit marker: a few rows
// to read, whatever the size of the tables, no false negatives, and it survives a restart of either
// process (unlike `PRAGMA data_version`, which only compares commits seen by one open connection).
// False positives (a batch of another date, a batch of dead letters only) cost one rebuild that
// yields the same cubes.
import fs from 'node:fs';
import { openReadonly } from '../../lib/sqlite.ts';

const OFFSETS_SQL = `SELECT group_id || '/' || topic || '/' || partition || '=' || next_offset
  FROM kafka_offsets ORDER BY group_id, topic, partition`;
const JOINED_LOAD_SQL = `SELECT source || '@' || loaded_at FROM joined_loads WHERE date = ?`;

/**
 * The marker of `date`'s input in base_de_donnees.db, or null when there is nothing to build from
 * yet (no database, or the consumer has not created its tables).
 */
export function readChangeMarker(dbPath: string, date: string): string | null {
  if (!fs.existsSync(dbPath)) return null;
  const db = openReadonly(dbPath);
  try {
    const tables = db
      .prepare(
        `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('kafka_offsets', 'joined_loads')`,
      )
      .pluck()
      .get() as number;
    if (tables < 2) return null;
    const offsets = db.prepare(OFFSETS_SQL).pluck().all() as string[];
    const joined = (db.prepare(JOINED_LOAD_SQL).pluck().get(date) as string | undefined) ?? '-';
    return `${offsets.join(',')}|${joined}`;
  } finally {
    db.close();
  }
}
