// The SQL build (what compute-cube runs) against the reference maths of cube-math.ts, row for row:
// same rows, same values, same SQLite types, on the real sample and on facts made to hit every rule.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AGE_GROUPS, type CubeRow } from '../../lib/cubes.ts';
import {
  buildCubes,
  factsReader,
  rawRows,
  readCubes,
  sortCubes,
  writeInputDb,
} from '../../test/fixtures/cube-reference.ts';
import { joinSample } from '../../test/fixtures/sample-cubes.ts';
import type { HealthCounts, NeighborhoodFacts } from './cube-math.ts';
import { createCubeMetrics } from './metrics.ts';
import { runComputeCube } from './run.ts';

const DATE = '2026-01-01';

/** Builds the cubes of `columns`/`rows` with the task and returns them with the reference's. */
function bothWays(columns: readonly string[], rows: readonly (readonly unknown[])[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cube-sql-'));
  const dbPath = path.join(dir, 'base_de_donnees.db');
  writeInputDb(dbPath, [DATE, '2026-01-02'], columns, rows);
  const cubeDbPath = path.join(dir, 'cube_analytics.db');
  runComputeCube(
    { date: DATE, dbPath, cubeDbPath },
    { log: pino({ level: 'silent' }), metrics: createCubeMetrics() },
  );
  const reference = sortCubes(buildCubes(DATE, rows.map(factsReader(columns))));
  return { sql: readCubes(cubeDbPath, DATE), reference };
}

/** Integers stay integers (an INTEGER column), ratios are doubles: compared with their JS types. */
const typed = (rows: CubeRow[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v, typeof v]])));

describe('compute-cube SQL build', () => {
  it('gives the reference rows on the real sample', async () => {
    const { columns, rows } = await joinSample();
    const { sql, reference } = bothWays(columns, rows);
    expect(sql.health_insurance).toHaveLength(97 * 4);
    for (const cube of ['income', 'self_employment', 'health_insurance'] as const)
      expect(typed(sql[cube])).toEqual(typed(reference[cube]));
  });
});

describe('compute-cube SQL build on made-up facts', () => {
  it('gives the reference rows on unknown cells, zero denominators, ties and empty brackets', () => {
    const counts = (v: number | null, total = v === null ? null : 4 * v): HealthCounts => ({
      total,
      private: v,
      public: v,
      both: v,
      uninsured: v,
    });
    const make = (id: number, over: Partial<NeighborhoodFacts>): NeighborhoodFacts => ({
      id,
      // Names out of Id order: the SQL build inserts in name order.
      neighborhood: `N${(id * 7) % 13}`,
      population: 100,
      aggregateIncome: 1000 * id,
      health: { under_18: counts(id), '18_34': counts(2), '35_64': counts(null), '65_plus': counts(0, 0) },
      households: 10 * id,
      withSelfEmploymentIncome: id,
      withoutSelfEmploymentIncome: 9 * id,
      ...over,
    });
    const facts = [
      make(1, {}),
      make(2, { aggregateIncome: 2000 }),
      make(3, { aggregateIncome: 1000, population: 50 }), // same per-capita income as Id 2: Id breaks the tie
      make(4, { population: 0 }), // per-capita income unknown (population 0): no bracket
      make(5, { aggregateIncome: null }),
      make(6, { population: null, households: null }),
      make(7, {
        population: null,
        households: 0,
        withSelfEmploymentIncome: 0,
        withoutSelfEmploymentIncome: 0,
      }),
      make(8, { neighborhood: 'N1', aggregateIncome: -500 }), // same name as Id 1
      make(9, {
        aggregateIncome: null,
        health: { under_18: counts(1), '18_34': counts(null), '35_64': counts(3), '65_plus': counts(4) },
      }),
    ];
    const { columns, rows } = rawRows(facts);
    const { sql, reference } = bothWays(columns, rows);
    for (const cube of ['income', 'self_employment', 'health_insurance'] as const)
      expect(typed(sql[cube])).toEqual(typed(reference[cube]));
    // The cases above really are there: empty brackets, a NULL roll-up, unknown members.
    const brackets = sql.income.filter((r) => r.grain === 'income_bracket');
    expect(brackets.map((r) => r.neighborhoods)).toEqual([1, 1, 1, 1, 0]);
    expect(brackets[4]).toMatchObject({ population: null, per_capita_income: null });
    const city = sql.health_insurance.filter((r) => r.grain === 'city');
    expect(city.find((r) => r.age_group === '35_64')).toMatchObject({ total: 12, unknown_neighborhoods: 8 });
    expect(sql.income.find((r) => r.grain === 'city')).toMatchObject({
      neighborhoods: 9,
      unknown_neighborhoods: 4,
    });
  });

  it('gives the reference rows when fewer than five neighborhoods are ranked (empty brackets between)', () => {
    const { columns, rows } = rawRows(
      [1, 2, 3].map((id) => ({
        id,
        neighborhood: `N${4 - id}`,
        population: id === 3 ? null : 10,
        aggregateIncome: 100 * id,
        health: Object.fromEntries(
          AGE_GROUPS.map((a) => [a, { total: 4, private: 1, public: 1, both: 1, uninsured: 1 }]),
        ) as NeighborhoodFacts['health'],
        households: 1,
        withSelfEmploymentIncome: 1,
        withoutSelfEmploymentIncome: 0,
      })),
    );
    const { sql, reference } = bothWays(columns, rows);
    expect(typed(sql.income)).toEqual(typed(reference.income));
    expect(typed(sql.health_insurance)).toEqual(typed(reference.health_insurance));
    // Two ranked: brackets 1 and 3 (floor(rank * 5 / 2) + 1), 2, 4 and 5 empty.
    const members = sql.income.filter((r) => r.grain === 'income_bracket').map((r) => r.neighborhoods);
    expect(members).toEqual([1, 0, 1, 0, 0]);
  });
});
