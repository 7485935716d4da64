import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUBES } from '../../lib/cubes.ts';
import { buildCubes, replayCubes } from '../../test/fixtures/cube-reference.ts';
import type { NeighborhoodFacts } from './cube-math.ts';
import { CUBE_RUNS_KEPT_PER_DATE, writeCubeDb, type CubeRun } from './cube-db.ts';

const counts = (v: number) => ({ total: 4 * v, private: v, public: v, both: v, uninsured: v });
function facts(n: number, scale: number): NeighborhoodFacts[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    neighborhood: `N${i + 1}`,
    population: 100 * scale,
    aggregateIncome: 1000 * (i + 1) * scale,
    health: {
      under_18: counts(scale),
      '18_34': counts(scale),
      '35_64': counts(scale),
      '65_plus': counts(scale),
    },
    households: 10,
    withSelfEmploymentIncome: 1,
    withoutSelfEmploymentIncome: 9,
  }));
}
const run = (date: string): CubeRun => ({
  runId: `${date}-${Math.random()}`,
  date,
  builtAt: new Date().toISOString(),
  rowsIn: 5,
  neighborhoods: 5,
  unknownIncome: 0,
  durationMs: 1,
  source: 'test',
});

function tmpDb(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cube-db-')), 'cube_analytics.db');
}

function populationByDate(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  const rows = db
    .prepare(`SELECT date, population FROM ${CUBES.income.table} WHERE grain = 'city' ORDER BY date`)
    .all() as { date: string; population: number }[];
  db.close();
  return Object.fromEntries(rows.map((r) => [r.date, r.population]));
}

describe('writeCubeDb', () => {
  it('creates the catalogue tables and replaces only the re-run date', () => {
    const file = tmpDb();
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 1))), run('2026-01-01'));
    writeCubeDb(file, replayCubes(buildCubes('2026-01-02', facts(5, 2))), run('2026-01-02'));
    expect(populationByDate(file)).toEqual({ '2026-01-01': 500, '2026-01-02': 1000 });

    const again = writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 3))), run('2026-01-01'));
    expect(populationByDate(file)).toEqual({ '2026-01-01': 1500, '2026-01-02': 1000 });
    // 5 neighborhoods + 5 brackets + city, times (income + self-employment + 4 age groups).
    expect(again).toMatchObject({ rowsOut: 11 * 6, rowsKept: 11 * 6 });

    const db = new Database(file, { readonly: true });
    expect(
      db.prepare(`SELECT count(*) AS n FROM ${CUBES.health_insurance.table} WHERE date = '2026-01-01'`).get(),
    ).toEqual({ n: 44 });
    expect(db.prepare('SELECT date FROM cube_runs ORDER BY built_at').all()).toHaveLength(3);
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
    expect(fs.readdirSync(path.dirname(file))).toEqual(['cube_analytics.db']);
  });

  it(`keeps the newest ${CUBE_RUNS_KEPT_PER_DATE} runs of each date in cube_runs`, () => {
    const file = tmpDb();
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 1))), run('2026-01-01'));
    // As if many --follow builds had run: 1,100 older runs of 2026-01-01, 5 of 2026-01-02.
    const db = new Database(file);
    const insert = db.prepare(
      `INSERT INTO cube_runs (run_id, date, built_at, rows_in, neighborhoods, unknown_income, rows_out, duration_ms, source)
       VALUES (?, ?, ?, 5, 5, 0, 66, 1, 'test')`,
    );
    const at = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 30_000).toISOString();
    db.transaction(() => {
      for (let i = 0; i < 1100; i++) insert.run(`old-${i}`, '2026-01-01', at(i));
      for (let i = 0; i < 5; i++) insert.run(`other-${i}`, '2026-01-02', at(i));
    })();
    db.close();
    const runsOf = () => {
      const d = new Database(file, { readonly: true });
      const rows = d.prepare('SELECT date, run_id FROM cube_runs ORDER BY built_at').all() as {
        date: string;
        run_id: string;
      }[];
      d.close();
      return (date: string) => rows.filter((r) => r.date === date).map((r) => r.run_id);
    };

    writeCubeDb(file, replayCubes(buildCubes('2026-01-02', facts(5, 2))), run('2026-01-02'));
    let runs = runsOf();
    expect(runs('2026-01-01')).toHaveLength(CUBE_RUNS_KEPT_PER_DATE);
    expect(runs('2026-01-01')).not.toContain('old-0');
    expect(runs('2026-01-02')).toHaveLength(6);

    const again = run('2026-01-01');
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 3))), again);
    runs = runsOf();
    expect(runs('2026-01-01')).toHaveLength(CUBE_RUNS_KEPT_PER_DATE);
    expect(runs('2026-01-01').at(-1)).toBe(again.runId);
    expect(runs('2026-01-02')).toHaveLength(6);
  });

  it('upgrades a file written before a column existed: old dates kept, the new column NULL', () => {
    const file = tmpDb();
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 1))), run('2026-01-01'));
    // The file as an earlier version wrote it: cube_runs without newest_event_at, income without a measure.
    const old = new Database(file);
    old.exec('ALTER TABLE cube_runs DROP COLUMN newest_event_at');
    old.exec(`ALTER TABLE ${CUBES.income.table} DROP COLUMN income_bracket`);
    old.close();

    writeCubeDb(file, replayCubes(buildCubes('2026-01-02', facts(5, 2))), {
      ...run('2026-01-02'),
      newestEventAt: '2026-01-02T10:00:00.000Z',
    });
    expect(populationByDate(file)).toEqual({ '2026-01-01': 500, '2026-01-02': 1000 });
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT date, newest_event_at FROM cube_runs ORDER BY date').all()).toEqual([
      { date: '2026-01-01', newest_event_at: null },
      { date: '2026-01-02', newest_event_at: '2026-01-02T10:00:00.000Z' },
    ]);
    const brackets = db
      .prepare(
        `SELECT date, count(income_bracket) AS n FROM ${CUBES.income.table} GROUP BY date ORDER BY date`,
      )
      .all();
    expect(brackets).toEqual([
      { date: '2026-01-01', n: 0 },
      { date: '2026-01-02', n: expect.any(Number) },
    ]);
    db.close();
  });
});

describe('writeCubeDb: failures, readers and concurrent runs', () => {
  it('leaves the current file untouched when a build fails', () => {
    const file = tmpDb();
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 1))), run('2026-01-01'));
    const before = fs.readFileSync(file);
    const broken = buildCubes('2026-01-02', facts(5, 2));
    broken.income[0]!.neighborhoods = null; // NOT NULL column: the insert fails mid-build
    expect(() => writeCubeDb(file, replayCubes(broken), run('2026-01-02'))).toThrow(/NOT NULL/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['cube_analytics.db']);
  });

  it('keeps a reader of the old file on a consistent snapshot across the swap', () => {
    const file = tmpDb();
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 1))), run('2026-01-01'));
    const reader = new Database(file, { readonly: true });
    const count = () =>
      (reader.prepare(`SELECT count(*) AS n FROM ${CUBES.income.table}`).get() as { n: number }).n;
    expect(count()).toBe(11);
    writeCubeDb(file, replayCubes(buildCubes('2026-01-02', facts(5, 2))), run('2026-01-02'));
    expect(count()).toBe(11); // still the old inode
    reader.close();
    expect(Object.keys(populationByDate(file))).toEqual(['2026-01-01', '2026-01-02']);
  });

  it('writes every row when a cube spans several multi-row INSERT chunks and a partial one', () => {
    const file = tmpDb();
    const cubes = buildCubes('2026-01-01', facts(300, 1));
    const written = writeCubeDb(file, replayCubes(cubes), run('2026-01-01'));
    const db = new Database(file, { readonly: true });
    const stored = db.prepare(`SELECT * FROM ${CUBES.health_insurance.table} ORDER BY rowid`).all() as Record<
      string,
      unknown
    >[];
    db.close();
    expect(written.rowsOut).toBe(300 * 6 + 6 * 6);
    expect(stored).toEqual(cubes.health_insurance.map((row) => ({ ...row })));
  });

  it('fails with the holder, leaving the current file, while another live run writes', () => {
    const file = tmpDb();
    writeCubeDb(file, replayCubes(buildCubes('2026-01-01', facts(5, 1))), run('2026-01-01'));
    const before = fs.readFileSync(file);
    fs.writeFileSync(`${file}.lock`, `${process.ppid}\n`);
    expect(() =>
      writeCubeDb(file, replayCubes(buildCubes('2026-01-02', facts(5, 2))), run('2026-01-02'), 0),
    ).toThrow(`another compute-cube run (pid ${process.ppid}) is writing`);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
