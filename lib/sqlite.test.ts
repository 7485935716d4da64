import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ChunkedInsert, quoteIdent } from './sqlite.ts';

describe('quoteIdent', () => {
  it('quotes a name and doubles inner quotes, so any name stays one identifier', () => {
    expect(quoteIdent('income_total')).toBe('"income_total"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    const db = new Database(':memory:');
    const name = 'x"; DROP TABLE t; --';
    db.exec(`CREATE TABLE t (${quoteIdent(name)} INTEGER)`);
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('t')).toEqual([name]);
    db.close();
  });
});

describe('ChunkedInsert', () => {
  const setup = (rowsPerStatement: number) => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const insert = new ChunkedInsert<[number, string]>(db, {
      head: 'INSERT OR IGNORE INTO t (k, v)',
      width: 2,
      rowsPerStatement,
      bind: (p, at, [k, v]) => {
        p[at] = k;
        p[at + 1] = v;
      },
    });
    return { db, insert };
  };

  it('writes full chunks and the rest, and counts the rows SQLite changed', () => {
    const { db, insert } = setup(4);
    const rows = Array.from({ length: 10 }, (_, i): [number, string] => [i, `v${i}`]);
    expect(insert.insertAll(rows)).toBe(10);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(10);
    // Ignored duplicates are not counted, in full chunks and in the rest alike.
    expect(insert.insertAll([...rows.slice(0, 5), [10, 'new']])).toBe(1);
    expect(db.prepare('SELECT v FROM t WHERE k = 10').pluck().get()).toBe('new');
    db.close();
  });

  it('add buffers until a chunk is full; flush writes what is left', () => {
    const { db, insert } = setup(3);
    const count = () => db.prepare('SELECT count(*) FROM t').pluck().get();
    insert.add([1, 'a']);
    insert.add([2, 'b']);
    expect(count()).toBe(0);
    insert.add([3, 'c']);
    expect(count()).toBe(3);
    insert.add([4, 'd']);
    expect(insert.flush()).toBe(4);
    expect(count()).toBe(4);
    expect(insert.flush()).toBe(0);
    db.close();
  });

  it('keeps a statement under SQLite parameter limit by default', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE w (${Array.from({ length: 1000 }, (_, i) => `c${i}`).join(', ')})`);
    const insert = new ChunkedInsert<number>(db, {
      head: 'INSERT INTO w',
      width: 1000,
      bind: (p, at, v) => p.fill(v, at, at + 1000),
    });
    expect(insert.rowsPerStatement).toBe(32);
    expect(insert.insertAll(Array.from({ length: 70 }, (_, i) => i))).toBe(70);
    db.close();
  });
});
