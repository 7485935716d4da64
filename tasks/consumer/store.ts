// base_de_donnees.db (docs/CONTRACTS.md): the narrow `events` table, `joined_attributes` (one row per
// date x Id), `latest_events`, `kafka_offsets`, `dead_letters` and the two views. The Kafka offsets
// live here, in the same transaction as the rows: that is what makes the consumer exactly-once.
import { openWritable, type Db } from '../../lib/sqlite.ts';
import type { PopulationEvent, RejectReason } from './message.ts';

/** A validated event with its Kafka coordinates, ready to insert. */
export interface StoredEvent extends PopulationEvent {
  partition: number;
  offset: number;
}

/** A rejected message, recorded in `dead_letters` in the same transaction that skips it. */
export interface DeadLetterRow {
  partition: number;
  offset: number;
  reason: RejectReason;
  detail: string;
}

export interface BatchCommit {
  groupId: string;
  topic: string;
  partition: number;
  /**
   * The next offset this process believes is stored for the partition (null: none stored yet).
   * The commit is a compare-and-set on it: if another group member has committed the partition
   * since (rebalance), the batch is stale and nothing is written.
   */
  expectedOffset: number | null;
  nextOffset: number;
  events: readonly StoredEvent[];
  deadLetters: readonly DeadLetterRow[];
}

export type CommitResult =
  | { committed: true; inserted: number; duplicates: number }
  | { committed: false; storedOffset: number | null };

/** Joined columns that the event side already provides under the same name. */
const KEY_JOINED_COLUMNS = new Set(['date', 'id', 'neighborhood']);
const IDENTIFIER_RE = /^[a-z][a-z0-9_]{0,511}$/;

export const EVENT_VIEW_COLUMNS = [
  'event_id',
  'date',
  'loop',
  'id',
  'neighborhood',
  'population_estimate_total',
  'population_margin_of_error_total',
  'kafka_partition',
  'kafka_offset',
] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  event_id TEXT PRIMARY KEY,
  date TEXT NOT NULL,
  loop INTEGER NOT NULL,
  id INTEGER NOT NULL,
  neighborhood TEXT NOT NULL,
  population_estimate_total INTEGER,
  population_margin_of_error_total REAL,
  produced_at TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest_events (
  date TEXT NOT NULL,
  id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  loop INTEGER NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset INTEGER NOT NULL,
  PRIMARY KEY (date, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS joined_attributes (
  date TEXT NOT NULL,
  id INTEGER NOT NULL,
  neighborhood TEXT,
  PRIMARY KEY (date, id)
);
CREATE TABLE IF NOT EXISTS joined_loads (
  date TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  rows INTEGER NOT NULL,
  loaded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kafka_offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
`;

export class StaleBatchError extends Error {
  override name = 'StaleBatchError';
}

export class EventStore {
  readonly db: Db;
  private readonly insertEvent;
  private readonly upsertLatest;
  private readonly casOffset;
  private readonly insertFirstOffset;
  private readonly selectOffset;
  private readonly selectOffsets;
  private readonly insertDeadLetter;
  private readonly commitTx;

  constructor(file: string) {
    this.db = openWritable(file);
    this.db.exec(SCHEMA);
    const hasViews = this.db
      .prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name LIKE 'donnees_formatees%'`)
      .pluck()
      .get() as number;
    if (hasViews < 2) this.db.transaction(() => this.recreateViews()).immediate();
    this.insertEvent = this.db.prepare(
      `INSERT OR IGNORE INTO events (event_id, date, loop, id, neighborhood, population_estimate_total,
         population_margin_of_error_total, produced_at, kafka_partition, kafka_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Latest = highest loop, then highest (partition, offset): one Id always lands on one partition,
    // so within a date the offset orders the resends of one loop.
    this.upsertLatest = this.db.prepare(
      `INSERT INTO latest_events (date, id, event_id, loop, kafka_partition, kafka_offset)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (date, id) DO UPDATE SET
         event_id = excluded.event_id, loop = excluded.loop,
         kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset
       WHERE (excluded.loop, excluded.kafka_partition, excluded.kafka_offset)
           > (latest_events.loop, latest_events.kafka_partition, latest_events.kafka_offset)`,
    );
    this.casOffset = this.db.prepare(
      `UPDATE kafka_offsets SET next_offset = ?, updated_at = ?
       WHERE group_id = ? AND topic = ? AND partition = ? AND next_offset = ?`,
    );
    this.insertFirstOffset = this.db.prepare(
      `INSERT INTO kafka_offsets (group_id, topic, partition, next_offset, updated_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.selectOffset = this.db
      .prepare(`SELECT next_offset FROM kafka_offsets WHERE group_id = ? AND topic = ? AND partition = ?`)
      .pluck();
    this.selectOffsets = this.db.prepare(
      `SELECT partition, next_offset AS nextOffset FROM kafka_offsets WHERE group_id = ? AND topic = ?`,
    );
    this.insertDeadLetter = this.db.prepare(
      `INSERT OR IGNORE INTO dead_letters (topic, partition, offset, reason, detail, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.commitTx = this.db.transaction((batch: BatchCommit): { inserted: number; duplicates: number } => {
      const now = new Date().toISOString();
      // Compare-and-set first: a stale batch (partition revoked and committed by another member)
      // throws here and the transaction rolls back before anything is written.
      const moved =
        batch.expectedOffset === null
          ? this.insertFirstOffset.run(batch.groupId, batch.topic, batch.partition, batch.nextOffset, now)
              .changes
          : this.casOffset.run(
              batch.nextOffset,
              now,
              batch.groupId,
              batch.topic,
              batch.partition,
              batch.expectedOffset,
            ).changes;
      if (moved !== 1)
        throw new StaleBatchError(`partition ${batch.partition} moved past ${batch.expectedOffset}`);
      let inserted = 0;
      const insertEvent = this.insertEvent;
      const upsertLatest = this.upsertLatest;
      for (const e of batch.events) {
        const r = insertEvent.run(
          e.eventId,
          e.date,
          e.loop,
          e.id,
          e.neighborhood,
          e.populationEstimateTotal,
          e.populationMarginOfErrorTotal,
          e.producedAt,
          e.partition,
          e.offset,
        );
        // A duplicate event id (the same message produced twice) is stored once.
        if (r.changes === 0) continue;
        inserted++;
        upsertLatest.run(e.date, e.id, e.eventId, e.loop, e.partition, e.offset);
      }
      for (const d of batch.deadLetters) {
        this.insertDeadLetter.run(batch.topic, d.partition, d.offset, d.reason, d.detail, now);
      }
      return { inserted, duplicates: batch.events.length - inserted };
    });
  }

  /** Next offset stored for a partition, or null when this group never committed it. */
  storedOffset(groupId: string, topic: string, partition: number): number | null {
    const v = this.selectOffset.get(groupId, topic, partition) as number | undefined;
    return v ?? null;
  }

  storedOffsets(groupId: string, topic: string): Map<number, number> {
    const rows = this.selectOffsets.all(groupId, topic) as { partition: number; nextOffset: number }[];
    return new Map(rows.map((r) => [r.partition, r.nextOffset]));
  }

  /**
   * Writes a batch's events, dead letters and the partition's next offset in ONE immediate
   * transaction (immediate: several consumer processes share the file; taking the write lock up
   * front avoids a read-to-write upgrade deadlock).
   */
  commitBatchWithOffsets(batch: BatchCommit): CommitResult {
    try {
      const r = this.commitTx.immediate(batch);
      return { committed: true, ...r };
    } catch (err) {
      if (err instanceof StaleBatchError) {
        return {
          committed: false,
          storedOffset: this.storedOffset(batch.groupId, batch.topic, batch.partition),
        };
      }
      throw err;
    }
  }

  /** Ids that have joined attributes for a date. */
  joinedIds(date: string): Set<number> {
    const ids = this.db
      .prepare('SELECT id FROM joined_attributes WHERE date = ?')
      .pluck()
      .all(date) as number[];
    return new Set(ids);
  }

  /** The source (file and version) the date's joined attributes were loaded from. */
  joinedSource(date: string): string | undefined {
    return this.db.prepare('SELECT source FROM joined_loads WHERE date = ?').pluck().get(date) as
      string | undefined;
  }

  hasJoinedLoad(date: string): boolean {
    return this.db.prepare('SELECT 1 FROM joined_loads WHERE date = ?').pluck().get(date) !== undefined;
  }

  joinedColumns(): string[] {
    const cols = this.db
      .prepare('SELECT name FROM pragma_table_info(?)')
      .pluck()
      .all('joined_attributes') as string[];
    return cols.filter((c) => !KEY_JOINED_COLUMNS.has(c));
  }

  /**
   * Replaces the joined attributes of one date with the rows of all_data_joined.csv (first record =
   * header), adding any new column, and recreates the views. The rows stream into a TEMP staging
   * table in small transactions (the file may be large and arrives asynchronously; holding the
   * write lock across awaits would block the other consumer processes), then one transaction swaps
   * them in: readers see the old or the new attributes of the date, never a mix.
   */
  async loadJoinedAttributes(
    date: string,
    batches: AsyncIterable<readonly (readonly string[])[]>,
    source: string,
  ): Promise<number> {
    let header: readonly string[] | undefined;
    let insert: ReturnType<Db['prepare']> | undefined;
    let idIndex = -1;
    let width = 0;
    let count = 0;
    const insertChunk = this.db.transaction((rows: readonly (readonly string[])[]) => {
      for (const row of rows) {
        const id = Number(row[idIndex]);
        if (!Number.isSafeInteger(id) || id < 1) continue;
        const values: (string | number | null)[] = new Array<string | number | null>(width + 1);
        values[0] = date;
        for (let k = 0; k < width; k++) {
          const cell = row[k];
          // NULL is an empty cell; NUMERIC affinity stores "1411" as an integer, "449.7" as a real.
          values[k + 1] = cell === undefined || cell === '' ? null : cell;
        }
        values[1 + idIndex] = id;
        insert!.run(values);
        count++;
      }
    });
    this.db.exec('DROP TABLE IF EXISTS temp.joined_staging');
    try {
      for await (const batch of batches) {
        let rows = batch;
        if (header === undefined) {
          if (batch.length === 0) continue;
          header = batch[0]!.map((c) => c.trim());
          rows = batch.slice(1);
          idIndex = header.indexOf('id');
          if (idIndex < 0) throw new Error(`all_data_joined of ${date} has no "id" column`);
          for (const col of header) {
            if (!IDENTIFIER_RE.test(col) || col === 'date') {
              throw new Error(
                `all_data_joined of ${date}: column ${JSON.stringify(col)} is not a usable snake_case identifier`,
              );
            }
          }
          if (new Set(header).size !== header.length)
            throw new Error(`all_data_joined of ${date}: duplicate column names`);
          width = header.length;
          // Column names were checked against IDENTIFIER_RE above: safe to splice into SQL.
          this.db.exec(
            `CREATE TEMP TABLE joined_staging (date TEXT, ${header.map((c) => `"${c}" NUMERIC`).join(', ')})`,
          );
          insert = this.db.prepare(
            `INSERT INTO temp.joined_staging VALUES (${new Array(width + 1).fill('?').join(', ')})`,
          );
        }
        insertChunk(rows);
      }
      if (header === undefined) throw new Error(`all_data_joined of ${date} is empty (no header)`);
      const cols = header;
      const swap = this.db.transaction(() => {
        const existing = new Set(this.joinedColumns());
        for (const c of cols) {
          if (!KEY_JOINED_COLUMNS.has(c) && !existing.has(c)) {
            this.db.exec(`ALTER TABLE joined_attributes ADD COLUMN "${c}" NUMERIC`);
          }
        }
        this.db.prepare('DELETE FROM joined_attributes WHERE date = ?').run(date);
        const names = ['date', ...cols].map((c) => `"${c}"`).join(', ');
        this.db.exec(
          `INSERT OR REPLACE INTO joined_attributes (${names}) SELECT ${names} FROM temp.joined_staging`,
        );
        this.db
          .prepare('INSERT OR REPLACE INTO joined_loads (date, source, rows, loaded_at) VALUES (?, ?, ?, ?)')
          .run(date, source, count, new Date().toISOString());
        this.recreateViews();
      });
      swap.immediate();
      return count;
    } finally {
      this.db.exec('DROP TABLE IF EXISTS temp.joined_staging');
    }
  }

  /** donnees_formatees and donnees_formatees_latest: the event columns, then every joined column. */
  recreateViews(): void {
    const joined = this.joinedColumns().map((c) => `j."${c}"`);
    const tail = joined.length > 0 ? `, ${joined.join(', ')}` : '';
    const eventCols = (alias: string) =>
      `${alias}.event_id, ${alias}.date, ${alias}.loop, ${alias}.id, ${alias}.neighborhood,
       ${alias}.population_estimate_total, ${alias}.population_margin_of_error_total,
       ${alias}.kafka_partition, ${alias}.kafka_offset`;
    this.db.exec(`
      DROP VIEW IF EXISTS donnees_formatees;
      DROP VIEW IF EXISTS donnees_formatees_latest;
      CREATE VIEW donnees_formatees AS
        SELECT ${eventCols('e')}${tail}
        FROM events e JOIN joined_attributes j ON j.date = e.date AND j.id = e.id;
      CREATE VIEW donnees_formatees_latest AS
        SELECT ${eventCols('e')}${tail}
        FROM latest_events l
        JOIN events e ON e.event_id = l.event_id
        JOIN joined_attributes j ON j.date = l.date AND j.id = l.id;
    `);
  }

  close(): void {
    this.db.close();
  }
}
