import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { AGE_GROUPS } from '../../lib/cubes.ts';
import { SOURCES, columnName } from '../../lib/sources.ts';
import { INCOME_COLUMN, cubeAnchorSql, healthColumns, sectorOfLeaf } from './cube-sql.ts';
import { quoteIdent } from './transform-sql.ts';

describe('sectorOfLeaf', () => {
  it('classifies B27010 leaves into the four sectors', () => {
    expect(sectorOfLeaf('With employer-based health insurance only')).toBe('private');
    expect(sectorOfLeaf('With Medicaid/means-tested public coverage only')).toBe('public');
    expect(sectorOfLeaf('With employer-based and Medicare coverage')).toBe('both');
    expect(sectorOfLeaf('With Medicare and Medicaid/means-tested public coverage')).toBe('public');
    expect(sectorOfLeaf('No health insurance coverage')).toBe('uninsured');
    expect(sectorOfLeaf('With two or more types of health insurance coverage')).toBe('subtotal');
  });

  it('maps every health-insurance leaf of every age group', () => {
    const cols = healthColumns();
    for (const age of AGE_GROUPS) {
      expect(cols[age].sectors.uninsured).toHaveLength(1);
      expect(cols[age].sectors.private.length).toBeGreaterThan(2);
    }
  });
});

describe('cubeAnchorSql (DuckDB cubes)', () => {
  it('keeps the latest event per Id and sums complete members only', async () => {
    const se = (l: string) => columnName(SOURCES.self_employment.prefix, `Estimate; ${l}`);
    const health = healthColumns();
    const healthCols = AGE_GROUPS.flatMap((a) => [
      health[a].total,
      ...Object.values(health[a].sectors).flat(),
    ]);
    const attrCols = [
      INCOME_COLUMN,
      ...healthCols,
      se('Total:'),
      se('Total: - With self-employment income'),
      se('Total: - No self-employment income'),
    ];
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    await db.run(
      `CREATE TABLE events (event_id VARCHAR, date VARCHAR, loop INTEGER, id BIGINT, neighborhood VARCHAR, population_estimate_total BIGINT, kafka_partition INTEGER, kafka_offset BIGINT)`,
    );
    await db.run(`INSERT INTO events VALUES
      ('a', '2024-01-01', 1, 1, 'One', 100, 0, 0), ('b', '2024-01-01', 2, 1, 'One', 200, 0, 5),
      ('c', '2024-01-01', 1, 2, 'Two', 50, 1, 0), ('d', '2023-12-31', 9, 2, 'Two', 999, 1, 9)`);
    await db.run(
      `CREATE TABLE joined_attributes (date VARCHAR, id BIGINT, ${attrCols.map((c) => `${quoteIdent(c)} BIGINT`).join(', ')})`,
    );
    const values = (income: string) => attrCols.map((c) => (c === INCOME_COLUMN ? income : '1')).join(', ');
    await db.run(
      `INSERT INTO joined_attributes VALUES ('2024-01-01', 1, ${values('20000')}), ('2024-01-01', 2, ${values('NULL')})`,
    );
    for (const sql of cubeAnchorSql('2024-01-01')) await db.run(sql);
    const income = (
      await db.runAndReadAll(
        `SELECT grain, neighborhood_id, income_bracket, population, aggregate_income, per_capita_income, neighborhoods, unknown_neighborhoods FROM cube_income ORDER BY grain, income_bracket, neighborhood_id`,
      )
    ).getRows();
    expect(income).toEqual([
      ['city', null, null, 200n, 20000n, 100, 2n, 1n],
      ['income_bracket', null, 1, 200n, 20000n, 100, 1n, 0n],
      ['income_bracket', null, 2, null, null, null, 0n, 0n],
      ['income_bracket', null, 3, null, null, null, 0n, 0n],
      ['income_bracket', null, 4, null, null, null, 0n, 0n],
      ['income_bracket', null, 5, null, null, null, 0n, 0n],
      ['neighborhood', 1n, 1, 200n, 20000n, 100, 1n, 0n],
      ['neighborhood', 2n, null, 50n, null, null, 1n, 1n],
    ]);
    const healthRows = (await db.runAndReadAll(`SELECT count(*) FROM cube_health_insurance`)).getRows();
    expect(healthRows[0]![0]).toBe(BigInt(4 * (2 + 5 + 1)));
    const city18 = (
      await db.runAndReadAll(
        `SELECT total, uninsured, uninsured_rate FROM cube_health_insurance WHERE grain = 'city' AND age_group = '18_34'`,
      )
    ).getRows();
    expect(city18).toEqual([[2n, 2n, 1]]);
  });
});
