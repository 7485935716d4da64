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

/** Rows per multi-row INSERT (10 parameters each: well under SQLite's 32766 limit). */
const CHUNK = 100;
const EVENT_PARAMS = 10;
const LATEST_PARAMS = 6;

function bindEvent(p: unknown[], at: number, e: StoredEvent): void {
  p[at] = e.eventId;
  p[at + 1] = e.date;
  p[at + 2] = e.loop;
  p[at + 3] = e.id;
  p[at + 4] = e.neighborhood;
  p[at + 5] = e.populationEstimateTotal;
  p[at + 6] = e.populationMarginOfErrorTotal;
  p[at + 7] = e.producedAt;
  p[at + 8] = e.partition;
  p[at + 9] = e.offset;
}

function bindLatest(p: unknown[], at: number, e: StoredEvent): void {
  p[at] = e.date;
  p[at + 1] = e.id;
  p[at + 2] = e.eventId;
  p[at + 3] = e.loop;
  p[at + 4] = e.partition;
  p[at + 5] = e.offset;
}

/** Most parameters one statement binds (SQLite's default SQLITE_MAX_VARIABLE_NUMBER). */
const MAX_PARAMS = 32766;

/** Plain decimals SQLite's NUMERIC affinity would store as the same number: parsed here (cheaper). */
const PLAIN_INTEGER_RE = /^-?\d{1,15}$/;
const PLAIN_DECIMAL_RE = /^-?\d{1,15}\.\d{1,17}$/;

/**
 * One joined cell as bound: NULL for an empty cell, a number for a plain decimal (NUMERIC affinity
 * stores an integral value as INTEGER either way), else the text, for SQLite's affinity to decide.
 */
function joinedCell(cell: string | undefined): string | number | null {
  if (cell === undefined || cell === '') return null;
  if (PLAIN_INTEGER_RE.test(cell) || PLAIN_DECIMAL_RE.test(cell)) return Number(cell);
  return cell;
}

export class StaleBatchError extends Error {
  override name = 'StaleBatchError';
}

export class EventStore {
  readonly db: Db;
  private readonly insertEvent;
  private readonly insertEvents;
  private readonly selectEventAt;
  private readonly upsertLatest;
  private readonly upsertLatests;
  private readonly casOffset;
  private readonly insertFirstOffset;
  private readonly selectOffset;
  private readonly selectOffsets;
  private readonly insertDeadLetter;
  private readonly commitTx;

  /** `cacheMb`: this connection's SQLite page cache (see the consumer's --max-memory). */
  constructor(file: string, options: { cacheMb?: number } = {}) {
    this.db = openWritable(file, options);
    // A 64 MB WAL between automatic checkpoints (SQLite's default is 4 MB): each batch appends a few
    // MB, so the default checkpoints (copy to the db file + fsync) almost every commit. Pages written
    // again before a checkpoint (latest_events, B-tree interiors) are then copied once. Measured
    // ~12% less time per stored row; a closed connection still checkpoints and removes the WAL.
    this.db.pragma('wal_autocheckpoint = 16384');
    this.db.exec(SCHEMA);
    const hasViews = this.db
      .prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name LIKE 'donnees_formatees%'`)
      .pluck()
      .get() as number;
    // Views of an older version lack produced_at (compute-cube's freshness): recreated once.
    const hasProducedAt =
      this.db
        .prepare(`SELECT 1 FROM pragma_table_info('donnees_formatees_latest') WHERE name = 'produced_at'`)
        .get() !== undefined;
    if (hasViews < 2 || !hasProducedAt) this.db.transaction(() => this.recreateViews()).immediate();
    const eventsInsert = (rows: number) =>
      `INSERT OR IGNORE INTO events (event_id, date, loop, id, neighborhood, population_estimate_total,
         population_margin_of_error_total, produced_at, kafka_partition, kafka_offset)
       VALUES ${new Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    this.insertEvent = this.db.prepare(eventsInsert(1));
    this.insertEvents = this.db.prepare(eventsInsert(CHUNK));
    this.selectEventAt = this.db.prepare(
      'SELECT kafka_partition AS p, kafka_offset AS o FROM events WHERE event_id = ?',
    );
    // Latest = highest loop, then highest (partition, offset): one Id always lands on one partition,
    // so within a date the offset orders the resends of one loop.
    const latestUpsert = (rows: number) =>
      `INSERT INTO latest_events (date, id, event_id, loop, kafka_partition, kafka_offset)
       VALUES ${new Array(rows).fill('(?, ?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (date, id) DO UPDATE SET
         event_id = excluded.event_id, loop = excluded.loop,
         kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset
       WHERE (excluded.loop, excluded.kafka_partition, excluded.kafka_offset)
           > (latest_events.loop, latest_events.kafka_partition, latest_events.kafka_offset)`;
    this.upsertLatest = this.db.prepare(latestUpsert(1));
    this.upsertLatests = this.db.prepare(latestUpsert(CHUNK));
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
      const events = batch.events;
      const n = events.length;
      // Events go in multi-row statements of CHUNK rows (one VM run and one native call per chunk
      // instead of per row); the tail uses the single-row statement.
      const inserted: StoredEvent[] = [];
      let i = 0;
      const params: unknown[] = new Array<unknown>(CHUNK * EVENT_PARAMS);
      for (; i + CHUNK <= n; i += CHUNK) {
        for (let k = 0; k < CHUNK; k++) bindEvent(params, k * EVENT_PARAMS, events[i + k]!);
        const changes = this.insertEvents.run(params).changes;
        if (changes === CHUNK) {
          for (let k = 0; k < CHUNK; k++) inserted.push(events[i + k]!);
        } else {
          // Some event ids were already stored (the same message produced twice): an event is
          // new iff the stored row is this message (partition, offset are unique per message).
          for (let k = 0; k < CHUNK; k++) {
            const e = events[i + k]!;
            const at = this.selectEventAt.get(e.eventId) as { p: number; o: number } | undefined;
            if (at !== undefined && at.p === e.partition && at.o === e.offset) inserted.push(e);
          }
        }
      }
      const one: unknown[] = new Array<unknown>(EVENT_PARAMS);
      for (; i < n; i++) {
        const e = events[i]!;
        bindEvent(one, 0, e);
        // A duplicate event id (the same message produced twice) is stored once.
        if (this.insertEvent.run(one).changes === 1) inserted.push(e);
      }
      // latest_events: the batch's latest event per (date, Id) first (same order as the upsert's
      // WHERE: loop, then partition, then offset), then one upsert per Id.
      const latest = new Map<string, StoredEvent>();
      for (const e of inserted) {
        const key = `${e.date}|${e.id}`;
        const cur = latest.get(key);
        if (
          cur === undefined ||
          e.loop > cur.loop ||
          (e.loop === cur.loop &&
            (e.partition > cur.partition || (e.partition === cur.partition && e.offset > cur.offset)))
        )
          latest.set(key, e);
      }
      const ups = [...latest.values()];
      let j = 0;
      const lp: unknown[] = new Array<unknown>(CHUNK * LATEST_PARAMS);
      for (; j + CHUNK <= ups.length; j += CHUNK) {
        for (let k = 0; k < CHUNK; k++) bindLatest(lp, k * LATEST_PARAMS, ups[j + k]!);
        this.upsertLatests.run(lp);
      }
      const lone: unknown[] = new Array<unknown>(LATEST_PARAMS);
      for (; j < ups.length; j++) {
        bindLatest(lone, 0, ups[j]!);
        this.upsertLatest.run(lone);
      }
      for (const d of batch.deadLetters) {
        this.insertDeadLetter.run(batch.topic, d.partition, d.offset, d.reason, d.detail, now);
      }
      return { inserted: inserted.length, duplicates: n - inserted.length };
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
    let insertMany: ReturnType<Db['prepare']> | undefined;
    let perStatement = 1;
    let params: (string | number | null)[] = [];
    let filled = 0;
    const insertChunk = this.db.transaction((rows: readonly (readonly string[])[]) => {
      const stride = width + 1;
      for (const row of rows) {
        const id = Number(row[idIndex]);
        if (!Number.isSafeInteger(id) || id < 1) continue;
        const at = filled * stride;
        params[at] = date;
        for (let k = 0; k < width; k++) params[at + k + 1] = joinedCell(row[k]);
        params[at + 1 + idIndex] = id;
        count++;
        // Rows go in multi-row statements of `perStatement` rows (one native call each).
        if (++filled === perStatement) {
          insertMany!.run(params);
          filled = 0;
        }
      }
      // The tail of the chunk, one row at a time.
      for (let r = 0; r < filled; r++) insert!.run(params.slice(r * stride, (r + 1) * stride));
      filled = 0;
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
          const tuple = `(${new Array(width + 1).fill('?').join(', ')})`;
          insert = this.db.prepare(`INSERT INTO temp.joined_staging VALUES ${tuple}`);
          perStatement = Math.max(1, Math.min(200, Math.floor(MAX_PARAMS / (width + 1))));
          insertMany = this.db.prepare(
            `INSERT INTO temp.joined_staging VALUES ${new Array(perStatement).fill(tuple).join(', ')}`,
          );
          params = new Array<string | number | null>(perStatement * (width + 1));
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
    // `date` and `id` come from the table the view is driven by, so that `WHERE date = ?` on the
    // view is a range of that table's primary key (not a scan of every date's latest events).
    const eventCols = (keys: string) =>
      `e.event_id, ${keys}.date, e.loop, ${keys}.id, e.neighborhood,
       e.population_estimate_total, e.population_margin_of_error_total,
       e.kafka_partition, e.kafka_offset, e.produced_at`;
    this.db.exec(`
      DROP VIEW IF EXISTS donnees_formatees;
      DROP VIEW IF EXISTS donnees_formatees_latest;
      CREATE VIEW donnees_formatees AS
        SELECT ${eventCols('e')}${tail}
        FROM events e JOIN joined_attributes j ON j.date = e.date AND j.id = e.id;
      CREATE VIEW donnees_formatees_latest AS
        SELECT ${eventCols('l')}${tail}
        FROM latest_events l
        JOIN events e ON e.event_id = l.event_id
        JOIN joined_attributes j ON j.date = l.date AND j.id = l.id;
    `);
  }

  close(): void {
    this.db.close();
  }
}
