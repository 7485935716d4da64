import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMIT_LOCK_ATTEMPTS, EventStore, parseJoinedHeader, type StoredEvent } from './store.ts';

let dir: string;
let store: EventStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-store-'));
  store = new EventStore(path.join(dir, 'base_de_donnees.db'));
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ev = (
  eventId: string,
  id: number,
  loop: number,
  partition: number,
  offset: number,
  date = '2026-11-28',
): StoredEvent => ({
  eventId,
  date,
  loop,
  id,
  neighborhood: `N${id}`,
  populationEstimateTotal: 100 * id,
  populationMarginOfErrorTotal: 1.25,
  producedAt: '2026-11-28T00:00:00.000Z',
  partition,
  offset,
});

async function* batches(rows: string[][]) {
  yield rows;
}

const commit = (expectedOffset: number | null, nextOffset: number, events: StoredEvent[], partition = 0) =>
  store.commitBatchWithOffsets({
    groupId: 'g',
    topic: 't',
    partition,
    expectedOffset,
    nextOffset,
    events,
    deadLetters: [],
  });

describe('EventStore offsets (compare-and-set)', () => {
  it('stores rows and the next offset together', () => {
    expect(commit(null, 2, [ev('a', 1, 1, 0, 0), ev('b', 2, 1, 0, 1)])).toEqual({
      committed: true,
      inserted: 2,
      duplicates: 0,
    });
    expect(store.storedOffset('g', 't', 0)).toBe(2);
    expect(store.db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2);
  });

  it('refuses a stale batch and writes none of its rows', () => {
    commit(null, 2, [ev('a', 1, 1, 0, 0), ev('b', 2, 1, 0, 1)]);
    // Another member moved the partition to 5; a batch computed from position 2 is stale.
    commit(2, 5, [ev('c', 3, 1, 0, 2), ev('d', 4, 1, 0, 3), ev('e', 5, 1, 0, 4)]);
    const stale = commit(2, 4, [ev('c2', 3, 1, 0, 2), ev('d2', 4, 1, 0, 3)]);
    expect(stale).toEqual({ committed: false, storedOffset: 5 });
    expect(store.db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(5);
    expect(store.storedOffset('g', 't', 0)).toBe(5);
  });

  it('refuses a first commit when another member already created the offset row', () => {
    commit(null, 3, [ev('a', 1, 1, 0, 2)]);
    expect(commit(null, 3, [ev('a2', 1, 1, 0, 2)])).toEqual({ committed: false, storedOffset: 3 });
  });

  it('keeps offsets per partition', () => {
    commit(null, 1, [ev('a', 1, 1, 0, 0)], 0);
    commit(null, 7, [ev('b', 2, 1, 1, 6)], 1);
    expect(store.storedOffsets('g', 't')).toEqual(
      new Map([
        [0, 1],
        [1, 7],
      ]),
    );
  });

  it('stores a duplicated event id once', () => {
    expect(commit(null, 2, [ev('a', 1, 1, 0, 0), ev('a', 1, 1, 0, 1)])).toEqual({
      committed: true,
      inserted: 1,
      duplicates: 1,
    });
  });

  it('multi-row chunks: stores duplicates once and the same latest rows as one row at a time', () => {
    // 350 events (3 full chunks + a tail): ids repeat, some event ids twice (in and across chunks).
    const events: StoredEvent[] = [];
    for (let o = 0; o < 350; o++) {
      const eventId = o % 50 === 7 ? `e${o - 1}` : `e${o}`;
      events.push(ev(eventId, 1 + (o % 40), 1 + Math.floor(o / 120), 0, o));
    }
    const r = commit(null, 350, events);
    const dups = events.filter((e, i) => events.findIndex((f) => f.eventId === e.eventId) !== i).length;
    expect(r).toEqual({ committed: true, inserted: 350 - dups, duplicates: dups });
    const stored = store.db
      .prepare('SELECT event_id, kafka_offset FROM events ORDER BY kafka_offset')
      .all() as { event_id: string; kafka_offset: number }[];
    const firsts = events.filter((e, i) => events.findIndex((f) => f.eventId === e.eventId) === i);
    expect(stored).toEqual(firsts.map((e) => ({ event_id: e.eventId, kafka_offset: e.offset })));
    // Expected latest: per id, the stored event with the highest (loop, offset).
    const want = new Map<number, StoredEvent>();
    for (const e of firsts) {
      const cur = want.get(e.id);
      if (!cur || e.loop > cur.loop || (e.loop === cur.loop && e.offset > cur.offset)) want.set(e.id, e);
    }
    expect(
      store.db.prepare('SELECT id, event_id, loop, kafka_offset FROM latest_events ORDER BY id').all(),
    ).toEqual(
      [...want.values()]
        .sort((a, b) => a.id - b.id)
        .map((e) => ({ id: e.id, event_id: e.eventId, loop: e.loop, kafka_offset: e.offset })),
    );
  });

  it('records dead letters in the batch transaction', () => {
    store.commitBatchWithOffsets({
      groupId: 'g',
      topic: 't',
      partition: 0,
      expectedOffset: null,
      nextOffset: 1,
      events: [],
      deadLetters: [{ partition: 0, offset: 0, reason: 'invalid_json', detail: 'x' }],
    });
    expect(store.db.prepare('SELECT reason FROM dead_letters').pluck().all()).toEqual(['invalid_json']);
  });
});

describe('latest_events', () => {
  const latest = () =>
    store.db.prepare('SELECT id, event_id FROM latest_events ORDER BY id').all() as {
      id: number;
      event_id: string;
    }[];

  it('keeps per date x id the highest loop, then the highest offset, whatever the arrival order', () => {
    commit(null, 10, [
      ev('l2', 1, 2, 0, 5),
      ev('l1', 1, 1, 0, 9),
      ev('x1', 2, 1, 0, 3),
      ev('x1b', 2, 1, 0, 4),
    ]);
    commit(10, 11, [ev('l1late', 1, 1, 0, 10)]);
    expect(latest()).toEqual([
      { id: 1, event_id: 'l2' },
      { id: 2, event_id: 'x1b' },
    ]);
  });

  it('keeps dates apart', () => {
    commit(null, 2, [ev('d1', 1, 3, 0, 0, '2026-11-27'), ev('d2', 1, 1, 0, 1, '2026-11-28')]);
    expect(store.db.prepare('SELECT date, event_id FROM latest_events ORDER BY date').all()).toEqual([
      { date: '2026-11-27', event_id: 'd1' },
      { date: '2026-11-28', event_id: 'd2' },
    ]);
  });

  it('reads one date of donnees_formatees_latest through the primary key, not a scan of every date', () => {
    const plan = store.db
      .prepare('EXPLAIN QUERY PLAN SELECT id FROM donnees_formatees_latest WHERE date = ?')
      .all('2026-11-28') as { detail: string }[];
    expect(plan.filter((p) => p.detail.startsWith('SCAN'))).toEqual([]);
  });
});

describe('joined attributes and the views (enrichment join)', () => {
  it('joins each event with its row of all_data_joined for its date', async () => {
    const n = await store.loadJoinedAttributes(
      '2026-11-28',
      batches([
        ['id', 'neighborhood', 'income_estimate_total', 'income_margin_of_error_total'],
        ['1', 'N1', '39947000', '6437773.5'],
        ['2', 'N2', '', '10'],
      ]),
      'test',
    );
    expect(n).toBe(2);
    expect(store.joinedIds('2026-11-28')).toEqual(new Set([1, 2]));
    commit(null, 3, [ev('a', 1, 1, 0, 0), ev('b', 2, 1, 0, 1), ev('b2', 2, 2, 0, 2)]);
    const rows = store.db.prepare('SELECT * FROM donnees_formatees ORDER BY kafka_offset').all();
    expect(rows[0]).toEqual({
      event_id: 'a',
      date: '2026-11-28',
      loop: 1,
      id: 1,
      neighborhood: 'N1',
      population_estimate_total: 100,
      population_margin_of_error_total: 1.25,
      kafka_partition: 0,
      kafka_offset: 0,
      produced_at: '2026-11-28T00:00:00.000Z',
      income_estimate_total: 39947000,
      income_margin_of_error_total: 6437773.5,
    });
    expect(rows[1]).toMatchObject({ id: 2, income_estimate_total: null, income_margin_of_error_total: 10 });
    const latest = store.db
      .prepare('SELECT event_id FROM donnees_formatees_latest ORDER BY id')
      .pluck()
      .all();
    expect(latest).toEqual(['a', 'b2']);
  });

  it('replaces a date on reload and keeps other dates', async () => {
    const header = ['id', 'neighborhood', 'income_estimate_total'];
    await store.loadJoinedAttributes('2026-11-27', batches([header, ['1', 'N1', '5']]), 'test');
    await store.loadJoinedAttributes(
      '2026-11-28',
      batches([header, ['1', 'N1', '6'], ['2', 'N2', '7']]),
      'test',
    );
    await store.loadJoinedAttributes('2026-11-28', batches([header, ['3', 'N3', '8']]), 'test');
    expect(store.joinedIds('2026-11-27')).toEqual(new Set([1]));
    expect(store.joinedIds('2026-11-28')).toEqual(new Set([3]));
    expect(store.hasJoinedLoad('2026-11-28')).toBe(true);
  });

  it('refuses a column name that is not a safe identifier', async () => {
    await expect(
      store.loadJoinedAttributes('2026-11-28', batches([['id', 'x"; DROP TABLE events; --']]), 'test'),
    ).rejects.toThrow(/identifier/);
  });
});

describe('parseJoinedHeader', () => {
  it('trims the names and finds the id column', () => {
    expect(parseJoinedHeader('2026-11-28', [' neighborhood', 'id ', 'income_total'])).toEqual({
      columns: ['neighborhood', 'id', 'income_total'],
      idIndex: 1,
    });
  });

  it('refuses a header without id, with a repeated name, with date, or with a name unfit for SQL', () => {
    expect(() => parseJoinedHeader('2026-11-28', ['neighborhood'])).toThrow(/no "id" column/);
    expect(() => parseJoinedHeader('2026-11-28', ['id', 'a', 'a'])).toThrow(/duplicate column/);
    expect(() => parseJoinedHeader('2026-11-28', ['id', 'date'])).toThrow(/"date" is not a usable/);
    expect(() => parseJoinedHeader('2026-11-28', ['id', 'Income Total'])).toThrow(/not a usable/);
  });
});

describe('EventStore commit under write-lock contention', () => {
  /** Another process holding the write lock of `file` for `ms`; resolves once it holds it. */
  async function holdWriteLock(file: string, ms: number): Promise<{ done: Promise<void> }> {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
         db.exec('BEGIN IMMEDIATE'); process.stdout.write('held\\n');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`,
      ],
      { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    return { done: new Promise((resolve) => child.on('exit', () => resolve())) };
  }

  it('waits through busy timeouts while another writer holds the lock, then commits', async () => {
    const file = path.join(dir, 'busy.db');
    const busy = new EventStore(file, { busyTimeoutMs: 100 });
    try {
      const holder = await holdWriteLock(file, 250);
      const started = Date.now();
      const r = busy.commitBatchWithOffsets({
        ...{ groupId: 'g', topic: 't', partition: 0, expectedOffset: null, nextOffset: 1 },
        ...{ events: [ev('a', 1, 1, 0, 0)], deadLetters: [] },
      });
      expect(r).toEqual({ committed: true, inserted: 1, duplicates: 0 });
      // More than one busy timeout went by: it retried instead of failing.
      expect(Date.now() - started).toBeGreaterThan(100);
      await holder.done;
    } finally {
      busy.close();
    }
  });

  it(`fails with SQLITE_BUSY after ${COMMIT_LOCK_ATTEMPTS} busy timeouts, having written nothing`, async () => {
    const file = path.join(dir, 'busy.db');
    const busy = new EventStore(file, { busyTimeoutMs: 50 });
    try {
      const holder = await holdWriteLock(file, 50 * COMMIT_LOCK_ATTEMPTS + 1500);
      expect(() =>
        busy.commitBatchWithOffsets({
          ...{ groupId: 'g', topic: 't', partition: 0, expectedOffset: null, nextOffset: 1 },
          ...{ events: [ev('a', 1, 1, 0, 0)], deadLetters: [] },
        }),
      ).toThrow(/database is locked/);
      await holder.done;
      expect(busy.storedOffset('g', 't', 0)).toBeNull();
      expect(busy.db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(0);
    } finally {
      busy.close();
    }
  });
});
