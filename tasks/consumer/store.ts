// base_de_donnees.db (docs/CONTRACTS.md): the narrow `events` table, `joined_attributes` (one row per
// date x Id), `latest_events`, `kafka_offsets`, `dead_letters` and the two views. The Kafka offsets
// live here, in the same transaction as the rows: that is what makes the consumer exactly-once.
import {
  ChunkedInsert,
  isBusy,
  MAX_PARAMS,
  openWritable,
  quoteIdent,
  type ChunkedInsertSpec,
  type Db,
  type Transaction,
  type WritableOptions,
} from '../../lib/sqlite.ts';
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

/** Busy timeouts a batch commit waits for the write lock before it fails (each 10 s by default). */
export const COMMIT_LOCK_ATTEMPTS = 6;

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

/** The columns of an all_data_joined header and where its `id` is. */
export interface JoinedHeader {
  columns: readonly string[];
  idIndex: number;
}

/**
 * Checks the header record of a date's all_data_joined (pure): an `id` column, every name a
 * snake_case identifier other than `date` (they become columns of joined_attributes), no repeats.
 */
export function parseJoinedHeader(date: string, record: readonly string[]): JoinedHeader {
  const columns = record.map((c) => c.trim());
  const idIndex = columns.indexOf('id');
  if (idIndex < 0) throw new Error(`all_data_joined of ${date} has no "id" column`);
  const bad = columns.find((c) => !IDENTIFIER_RE.test(c) || c === 'date');
  if (bad !== undefined) {
    throw new Error(
      `all_data_joined of ${date}: column ${JSON.stringify(bad)} is not a usable snake_case identifier`,
    );
  }
  if (new Set(columns).size !== columns.length)
    throw new Error(`all_data_joined of ${date}: duplicate column names`);
  return { columns, idIndex };
}

/** The Id of a joined record, or undefined when it is not a positive integer (the row is skipped). */
function joinedId(record: readonly string[], idIndex: number): number | undefined {
  const id = Number(record[idIndex]);
  return Number.isSafeInteger(id) && id >= 1 ? id : undefined;
}

/** Latest = highest loop, then highest (partition, offset): the order of the latest_events upsert. */
function isLater(e: StoredEvent, than: StoredEvent): boolean {
  if (e.loop !== than.loop) return e.loop > than.loop;
  if (e.partition !== than.partition) return e.partition > than.partition;
  return e.offset > than.offset;
}

/** Per (date, Id), the latest of `events` (pure). */
export function latestPerId(events: readonly StoredEvent[]): StoredEvent[] {
  // By date, then by Id: number keys, no key string built per event.
  const byDate = new Map<string, Map<number, StoredEvent>>();
  for (const e of events) {
    let latest = byDate.get(e.date);
    if (latest === undefined) byDate.set(e.date, (latest = new Map()));
    const cur = latest.get(e.id);
    if (cur === undefined || isLater(e, cur)) latest.set(e.id, e);
  }
  return [...byDate.values()].flatMap((latest) => [...latest.values()]);
}

export class StaleBatchError extends Error {
  override name = 'StaleBatchError';
}

/** The prepared single-row statements of the store. */
function prepareStatements(db: Db) {
  return {
    selectEventAt: db.prepare(
      'SELECT kafka_partition AS p, kafka_offset AS o FROM events WHERE event_id = ?',
    ),
    casOffset: db.prepare(
      `UPDATE kafka_offsets SET next_offset = ?, updated_at = ?
       WHERE group_id = ? AND topic = ? AND partition = ? AND next_offset = ?`,
    ),
    insertFirstOffset: db.prepare(
      `INSERT INTO kafka_offsets (group_id, topic, partition, next_offset, updated_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    selectOffset: db
      .prepare(`SELECT next_offset FROM kafka_offsets WHERE group_id = ? AND topic = ? AND partition = ?`)
      .pluck(),
    selectOffsets: db.prepare(
      `SELECT partition, next_offset AS nextOffset FROM kafka_offsets WHERE group_id = ? AND topic = ?`,
    ),
    insertDeadLetter: db.prepare(
      `INSERT OR IGNORE INTO dead_letters (topic, partition, offset, reason, detail, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
  };
}

/** The columns events and latest_events share, first in both: event_id, date, loop, id. */
function bindEventKey(p: unknown[], at: number, e: StoredEvent): void {
  p[at] = e.eventId;
  p[at + 1] = e.date;
  p[at + 2] = e.loop;
  p[at + 3] = e.id;
}

const EVENT_INSERT: ChunkedInsertSpec<StoredEvent> = {
  head: `INSERT OR IGNORE INTO events (event_id, date, loop, id, neighborhood, population_estimate_total,
    population_margin_of_error_total, produced_at, kafka_partition, kafka_offset)`,
  width: 10,
  rowsPerStatement: 100,
  bind: (p, at, e) => {
    bindEventKey(p, at, e);
    p[at + 4] = e.neighborhood;
    p[at + 5] = e.populationEstimateTotal;
    p[at + 6] = e.populationMarginOfErrorTotal;
    p[at + 7] = e.producedAt;
    p[at + 8] = e.partition;
    p[at + 9] = e.offset;
  },
};

// Latest = highest loop, then highest (partition, offset): one Id always lands on one partition,
// so within a date the offset orders the resends of one loop.
const LATEST_UPSERT: ChunkedInsertSpec<StoredEvent> = {
  head: 'INSERT INTO latest_events (event_id, date, loop, id, kafka_partition, kafka_offset)',
  width: 6,
  rowsPerStatement: 100,
  tail: `ON CONFLICT (date, id) DO UPDATE SET
      event_id = excluded.event_id, loop = excluded.loop,
      kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset
    WHERE (excluded.loop, excluded.kafka_partition, excluded.kafka_offset)
        > (latest_events.loop, latest_events.kafka_partition, latest_events.kafka_offset)`,
  bind: (p, at, e) => {
    bindEventKey(p, at, e);
    p[at + 4] = e.partition;
    p[at + 5] = e.offset;
  },
};

export class EventStore {
  readonly db: Db;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly events: ChunkedInsert<StoredEvent>;
  private readonly latest: ChunkedInsert<StoredEvent>;
  private readonly commitTx: Transaction<(batch: BatchCommit) => { inserted: number; duplicates: number }>;

  /** `cacheMb`: this connection's SQLite page cache (see the consumer's --max-memory). */
  constructor(file: string, options: WritableOptions = {}) {
    this.db = openWritable(file, options);
    // A 64 MB WAL between automatic checkpoints (SQLite's default is 4 MB): each batch appends a few
    // MB, so the default would checkpoint (copy to the db file + fsync) almost every commit; pages
    // written again before a checkpoint (latest_events, B-tree interiors) are then copied once.
    this.db.pragma('wal_autocheckpoint = 16384');
    this.db.exec(SCHEMA);
    if (this.viewsOutdated()) this.db.transaction(() => this.recreateViews()).immediate();
    this.statements = prepareStatements(this.db);
    this.events = new ChunkedInsert(this.db, EVENT_INSERT);
    this.latest = new ChunkedInsert(this.db, LATEST_UPSERT);
    this.commitTx = this.db.transaction((batch: BatchCommit) => this.writeBatch(batch));
  }

  /** Views missing, or of an older version that lacks produced_at (compute-cube's freshness). */
  private viewsOutdated(): boolean {
    const views = this.db
      .prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name LIKE 'donnees_formatees%'`)
      .pluck()
      .get() as number;
    const hasProducedAt =
      this.db
        .prepare(`SELECT 1 FROM pragma_table_info('donnees_formatees_latest') WHERE name = 'produced_at'`)
        .get() !== undefined;
    return views < 2 || !hasProducedAt;
  }

  /** The body of the batch transaction: offset first, then events, latest rows and dead letters. */
  private writeBatch(batch: BatchCommit): { inserted: number; duplicates: number } {
    const now = new Date().toISOString();
    this.moveOffset(batch, now);
    const inserted = this.insertEvents(batch.events);
    this.latest.insertAll(latestPerId(inserted));
    for (const d of batch.deadLetters) {
      this.statements.insertDeadLetter.run(batch.topic, d.partition, d.offset, d.reason, d.detail, now);
    }
    return { inserted: inserted.length, duplicates: batch.events.length - inserted.length };
  }

  /**
   * Compare-and-set of the partition's next offset, first: a stale batch (partition revoked and
   * committed by another member) throws here and the transaction rolls back before any write.
   */
  private moveOffset(batch: BatchCommit, now: string): void {
    const { groupId, topic, partition, expectedOffset, nextOffset } = batch;
    const moved =
      expectedOffset === null
        ? this.statements.insertFirstOffset.run(groupId, topic, partition, nextOffset, now).changes
        : this.statements.casOffset.run(nextOffset, now, groupId, topic, partition, expectedOffset).changes;
    if (moved !== 1) throw new StaleBatchError(`partition ${partition} moved past ${expectedOffset}`);
  }

  /** Inserts the events; returns those that were new (a duplicate event id is stored once). */
  private insertEvents(events: readonly StoredEvent[]): readonly StoredEvent[] {
    if (this.events.insertAll(events) === events.length) return events;
    // Some event ids were already stored (the same message produced twice): an event is new iff
    // the stored row is this message (partition and offset are unique per message).
    return events.filter((e) => {
      const at = this.statements.selectEventAt.get(e.eventId) as { p: number; o: number } | undefined;
      return at !== undefined && at.p === e.partition && at.o === e.offset;
    });
  }

  /** Next offset stored for a partition, or null when this group never committed it. */
  storedOffset(groupId: string, topic: string, partition: number): number | null {
    const v = this.statements.selectOffset.get(groupId, topic, partition) as number | undefined;
    return v ?? null;
  }

  storedOffsets(groupId: string, topic: string): Map<number, number> {
    const rows = this.statements.selectOffsets.all(groupId, topic) as {
      partition: number;
      nextOffset: number;
    }[];
    return new Map(rows.map((r) => [r.partition, r.nextOffset]));
  }

  /**
   * Writes a batch's events, dead letters and the partition's next offset in ONE immediate
   * transaction (immediate: several consumer processes share the file; taking the write lock up
   * front avoids a read-to-write upgrade deadlock).
   */
  commitBatchWithOffsets(batch: BatchCommit): CommitResult {
    for (let attempt = 1; ; attempt++) {
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
        // BEGIN IMMEDIATE found the write lock taken for a whole busy timeout, so nothing was
        // written: SQLite's busy handler is not fair (a waiter sleeps while other writers take the
        // lock in turn), and under load one of N workers can lose that long. Contention, not failure.
        if (isBusy(err) && attempt < COMMIT_LOCK_ATTEMPTS) continue;
        throw err;
      }
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
    this.db.exec('DROP TABLE IF EXISTS temp.joined_staging');
    try {
      const { header, rows } = await this.stageJoined(date, batches);
      this.db.transaction(() => this.swapJoined(date, header.columns, source, rows)).immediate();
      return rows;
    } finally {
      this.db.exec('DROP TABLE IF EXISTS temp.joined_staging');
    }
  }

  /** Streams the joined records into temp.joined_staging, one small transaction per batch. */
  private async stageJoined(
    date: string,
    batches: AsyncIterable<readonly (readonly string[])[]>,
  ): Promise<{ header: JoinedHeader; rows: number }> {
    let header: JoinedHeader | undefined;
    let insert: ChunkedInsert<readonly string[]> | undefined;
    let rows = 0;
    // Rows stay buffered across batches (a CSV batch is smaller than one multi-row statement):
    // only the very last rows go in one at a time.
    const write = this.db.transaction((records: readonly (readonly string[])[]) => {
      for (const record of records) {
        if (joinedId(record, header!.idIndex) === undefined) continue;
        insert!.add(record);
        rows++;
      }
    });
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      let records = batch;
      if (header === undefined) {
        header = parseJoinedHeader(date, batch[0]!);
        insert = this.createStaging(date, header);
        records = batch.slice(1);
      }
      write(records);
    }
    if (header === undefined) throw new Error(`all_data_joined of ${date} is empty (no header)`);
    this.db.transaction(() => insert!.flush())();
    return { header, rows };
  }

  /** temp.joined_staging with the header's columns, and its chunked insert (date, then the record). */
  private createStaging(date: string, { columns, idIndex }: JoinedHeader): ChunkedInsert<readonly string[]> {
    const cols = columns.map((c) => `${quoteIdent(c)} NUMERIC`).join(', ');
    this.db.exec(`CREATE TEMP TABLE joined_staging (date TEXT, ${cols})`);
    const width = columns.length;
    return new ChunkedInsert<readonly string[]>(this.db, {
      head: 'INSERT INTO temp.joined_staging',
      width: width + 1,
      rowsPerStatement: Math.max(1, Math.min(200, Math.floor(MAX_PARAMS / (width + 1)))),
      bind: (p, at, record) => {
        p[at] = date;
        for (let k = 0; k < width; k++) p[at + 1 + k] = joinedCell(record[k]);
        p[at + 1 + idIndex] = joinedId(record, idIndex);
      },
    });
  }

  /** One transaction: new columns, the date's rows replaced by the staged ones, its load recorded. */
  private swapJoined(date: string, columns: readonly string[], source: string, rows: number): void {
    const existing = new Set(this.joinedColumns());
    for (const c of columns) {
      if (!KEY_JOINED_COLUMNS.has(c) && !existing.has(c)) {
        this.db.exec(`ALTER TABLE joined_attributes ADD COLUMN ${quoteIdent(c)} NUMERIC`);
      }
    }
    this.db.prepare('DELETE FROM joined_attributes WHERE date = ?').run(date);
    const names = ['date', ...columns].map(quoteIdent).join(', ');
    this.db.exec(
      `INSERT OR REPLACE INTO joined_attributes (${names}) SELECT ${names} FROM temp.joined_staging`,
    );
    this.db
      .prepare('INSERT OR REPLACE INTO joined_loads (date, source, rows, loaded_at) VALUES (?, ?, ?, ?)')
      .run(date, source, rows, new Date().toISOString());
    this.recreateViews();
  }

  /** donnees_formatees and donnees_formatees_latest: the event columns, then every joined column. */
  recreateViews(): void {
    const joined = this.joinedColumns().map((c) => `j.${quoteIdent(c)}`);
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
