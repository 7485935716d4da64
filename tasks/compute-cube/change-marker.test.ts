import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readChangeMarker } from './change-marker.ts';

/** The two consumer tables the marker reads, as docs/CONTRACTS.md describes them. */
function consumerDb(): { file: string; db: Database.Database } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cube-marker-'));
  const file = path.join(dir, 'base_de_donnees.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE kafka_offsets (group_id TEXT, topic TEXT, partition INTEGER, next_offset INTEGER, updated_at TEXT,
      PRIMARY KEY (group_id, topic, partition));
    CREATE TABLE joined_loads (date TEXT PRIMARY KEY, source TEXT, rows INTEGER, loaded_at TEXT);`);
  return { file, db };
}

describe('readChangeMarker', () => {
  it('is null while there is no database or no consumer tables', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cube-marker-'));
    expect(readChangeMarker(path.join(dir, 'none.db'), '2026-01-01')).toBeNull();
    const empty = path.join(dir, 'empty.db');
    new Database(empty).close();
    expect(readChangeMarker(empty, '2026-01-01')).toBeNull();
  });

  it('moves with every committed offset and with a new joined load of the date, not otherwise', () => {
    const { file, db } = consumerDb();
    const upsert = db.prepare(
      `INSERT INTO kafka_offsets VALUES ('g', 't', ?, ?, 'now') ON CONFLICT DO UPDATE SET next_offset = excluded.next_offset`,
    );
    const load = db.prepare(`INSERT OR REPLACE INTO joined_loads VALUES (?, 'hdfs://x@1:2', 91, ?)`);
    const date = '2026-01-01';
    const m0 = readChangeMarker(file, date);
    expect(m0).not.toBeNull();
    upsert.run(0, 100);
    const m1 = readChangeMarker(file, date);
    expect(m1).not.toBe(m0);
    expect(readChangeMarker(file, date)).toBe(m1); // nothing committed: same marker
    upsert.run(1, 5);
    const m2 = readChangeMarker(file, date);
    expect(m2).not.toBe(m1);
    load.run(date, '2026-01-01T00:00:00Z');
    const m3 = readChangeMarker(file, date);
    expect(m3).not.toBe(m2);
    load.run('2026-01-02', '2026-01-01T00:00:00Z'); // another date's attributes
    expect(readChangeMarker(file, date)).toBe(m3);
    load.run(date, '2026-01-01T00:00:09Z'); // the date's attributes reloaded
    expect(readChangeMarker(file, date)).not.toBe(m3);
    db.close();
  });
});
