import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CUBES } from '../../lib/cubes.ts';
import { writeInputDb } from '../../test/fixtures/cube-reference.ts';
import { joinSample } from '../../test/fixtures/sample-cubes.ts';
import { createCubeMetrics } from './metrics.ts';
import { CubeInputError, INPUT_VIEW } from './read-input.ts';
import { runComputeCube } from './run.ts';

const log = pino({ level: 'silent' });

/** A base_de_donnees.db whose donnees_formatees_latest holds the sample for the given dates. */
async function inputDb(dates: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compute-cube-'));
  const file = path.join(dir, 'base_de_donnees.db');
  const { columns, rows } = await joinSample();
  writeInputDb(file, dates, columns, rows);
  return file;
}

const run = (dbPath: string, date: string) =>
  runComputeCube(
    { date, dbPath, cubeDbPath: path.join(path.dirname(dbPath), 'cube_analytics.db') },
    { log, metrics: createCubeMetrics() },
  );

describe('runComputeCube', () => {
  it('builds the three cubes of a date from donnees_formatees_latest', async () => {
    const dbPath = await inputDb(['2026-01-01', '2026-01-02']);
    const summary = run(dbPath, '2026-01-01');
    expect(summary).toMatchObject({
      rowsIn: 91,
      unknownIncome: 2,
      rowsOut: { health_insurance: (91 + 6) * 4, income: 97, self_employment: 97 },
    });
    const cube = new Database(summary.cubeDbPath, { readonly: true });
    const dates = cube.prepare(`SELECT DISTINCT date FROM ${CUBES.income.table}`).pluck().all();
    expect(dates).toEqual(['2026-01-01']);
    expect(cube.prepare('SELECT rows_in, neighborhoods, unknown_income FROM cube_runs').get()).toEqual({
      rows_in: 91,
      neighborhoods: 91,
      unknown_income: 2,
    });
    cube.close();
  });

  it('replaces only the re-run date', async () => {
    const dbPath = await inputDb(['2026-01-01', '2026-01-02']);
    run(dbPath, '2026-01-01');
    run(dbPath, '2026-01-02');
    const cubeDbPath = path.join(path.dirname(dbPath), 'cube_analytics.db');
    const cityPopulation = () => {
      const db = new Database(cubeDbPath, { readonly: true });
      const rows = db
        .prepare(`SELECT date, population FROM ${CUBES.income.table} WHERE grain = 'city' ORDER BY date`)
        .all();
      db.close();
      return rows;
    };
    const before = cityPopulation() as { date: string; population: number }[];
    expect(before).toHaveLength(2);
    // The input of 2026-01-02 changes (a later loop with doubled populations), then only that date is re-run.
    const db = new Database(dbPath);
    db.prepare(
      `UPDATE ${INPUT_VIEW} SET population_estimate_total = population_estimate_total * 2 WHERE date = ?`,
    ).run('2026-01-02');
    db.close();
    run(dbPath, '2026-01-02');
    const after = cityPopulation() as { date: string; population: number }[];
    expect(after[0]).toEqual(before[0]);
    expect(after[1]!.population).toBe(before[1]!.population * 2);
  });
});

describe('runComputeCube: freshness and unusable input', () => {
  it('measures the build from the newest producedAt of its input (cube_runs, summary, metrics)', async () => {
    const dbPath = await inputDb(['2026-01-01']);
    const db = new Database(dbPath);
    db.exec(`ALTER TABLE ${INPUT_VIEW} ADD COLUMN produced_at TEXT`);
    const newest = new Date(Date.now() - 5_000).toISOString();
    db.prepare(`UPDATE ${INPUT_VIEW} SET produced_at = ?`).run('2026-01-01T00:00:00.000Z');
    db.prepare(`UPDATE ${INPUT_VIEW} SET produced_at = ? WHERE rowid = 7`).run(newest);
    db.close();
    const metrics = createCubeMetrics();
    const summary = runComputeCube(
      { date: '2026-01-01', dbPath, cubeDbPath: path.join(path.dirname(dbPath), 'cube_analytics.db') },
      { log, metrics },
    );
    expect(summary.newestEventAt).toBe(newest);
    expect(summary.latencySeconds).toBeGreaterThanOrEqual(5);
    expect(summary.latencySeconds).toBeLessThan(60);
    expect((await metrics.newestEvent.get()).values[0]?.value).toBe(Date.parse(newest) / 1000);
    const cube = new Database(summary.cubeDbPath, { readonly: true });
    expect(cube.prepare('SELECT newest_event_at FROM cube_runs').pluck().get()).toBe(newest);
    cube.close();
    // Without the column (an older consumer database) the build works, freshness unknown.
    expect(run(await inputDb(['2026-01-01']), '2026-01-01')).toMatchObject({
      newestEventAt: null,
      latencySeconds: null,
    });
  });

  it('fails with a clear error and leaves no cube file when the input is unusable', async () => {
    const dbPath = await inputDb(['2026-01-01']);
    const cubeDbPath = path.join(path.dirname(dbPath), 'cube_analytics.db');
    expect(() => run(dbPath, '2026-02-01')).toThrow(
      new CubeInputError(
        `no rows for date 2026-02-01 in ${INPUT_VIEW} of ${dbPath} (did the consumer run for this date?)`,
      ),
    );
    expect(() => run(path.join(path.dirname(dbPath), 'nope.db'), '2026-01-01')).toThrow(/database not found/);
    const db = new Database(dbPath);
    db.exec(`ALTER TABLE ${INPUT_VIEW} DROP COLUMN population_estimate_total`);
    db.close();
    expect(() => run(dbPath, '2026-01-01')).toThrow(/lacks 1 column\(s\): population_estimate_total/);
    expect(fs.existsSync(cubeDbPath)).toBe(false);
  });
});
