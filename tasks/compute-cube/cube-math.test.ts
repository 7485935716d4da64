import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AGE_GROUPS, type CubeRow } from '../../lib/cubes.ts';
import { SOURCES, headerOf } from '../../lib/sources.ts';
import { SAMPLE_DIR, joinSample } from '../../test/fixtures/sample-cubes.ts';
import { buildCubes, factsReader } from '../../test/fixtures/cube-reference.ts';
import {
  incomeBrackets,
  perCapitaIncome,
  ratioOrNull,
  sumOrNull,
  type HealthCounts,
  type NeighborhoodFacts,
} from './cube-math.ts';
import { HEALTH_SECTOR_COLUMNS } from './health-sectors.ts';

/**
 * The real sample; when the synthetic self-employment file is not generated yet, one with every
 * cell unknown stands in (these tests are about health insurance and income).
 */
function sampleDir(): string {
  const se = SOURCES.self_employment.file;
  if (fs.existsSync(path.join(SAMPLE_DIR, se))) return SAMPLE_DIR;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cube-sample-'));
  for (const f of fs.readdirSync(SAMPLE_DIR)) fs.copyFileSync(path.join(SAMPLE_DIR, f), path.join(dir, f));
  const population = fs
    .readFileSync(path.join(dir, SOURCES.population.file), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const rows = population.map((line) => `${line.split(',').slice(0, 2).join(',')},-,**,-,**,-,**`);
  fs.writeFileSync(
    path.join(dir, se),
    `${headerOf(SOURCES.self_employment).join(',')}\n${rows.join('\n')}\n`,
  );
  return dir;
}

let facts: NeighborhoodFacts[];
let cubes: ReturnType<typeof buildCubes>;
const byName = (rows: CubeRow[], name: string) => rows.filter((r) => r.neighborhood === name);

beforeAll(async () => {
  const { columns, rows, rejects } = await joinSample(sampleDir());
  expect(rejects).toEqual([]);
  facts = rows.map(factsReader(columns));
  cubes = buildCubes('2026-01-01', facts);
});

describe('health-insurance sectors (B27010)', () => {
  it('classifies every leaf column; the 65+ group has no Medicaid-only column', () => {
    const count = (age: (typeof AGE_GROUPS)[number]) =>
      Object.fromEntries(Object.entries(HEALTH_SECTOR_COLUMNS[age].sectors).map(([s, c]) => [s, c.length]));
    expect(count('under_18')).toEqual({ private: 5, public: 5, both: 2, uninsured: 1 });
    expect(count('35_64')).toEqual({ private: 5, public: 5, both: 3, uninsured: 1 });
    expect(count('65_plus')).toEqual({ private: 5, public: 4, both: 3, uninsured: 1 });
    expect(HEALTH_SECTOR_COLUMNS['65_plus'].total).toBe('health_insurance_estimate_65_years_and_over');
  });

  it('sums the four sectors to the age group total for every neighborhood of the real sample', () => {
    const rows = cubes.health_insurance.filter((r) => r.grain === 'neighborhood');
    expect(rows).toHaveLength(91 * 4);
    for (const r of rows) {
      expect(
        (r.private as number) + (r.public as number) + (r.both as number) + (r.uninsured as number),
      ).toBe(r.total);
    }
    const city = cubes.health_insurance.filter((r) => r.grain === 'city');
    expect(city.map((r) => r.age_group)).toEqual([...AGE_GROUPS]);
    for (const r of city) {
      expect(
        (r.private as number) + (r.public as number) + (r.both as number) + (r.uninsured as number),
      ).toBe(r.total);
      expect(r.uninsured_rate).toBeCloseTo((r.uninsured as number) / (r.total as number), 12);
    }
  });

  it('makes a sector unknown, not smaller, when one of its cells is unknown', async () => {
    const { columns, rows } = await joinSample(sampleDir());
    const row = [...rows[0]!];
    const medicaidOnly = HEALTH_SECTOR_COLUMNS['18_34'].sectors.public[1]!;
    expect(medicaidOnly).toMatch(/medicaid/);
    row[columns.indexOf(medicaidOnly)] = null;
    const f = factsReader(columns)(row);
    expect(f.health['18_34']).toMatchObject({ public: null, private: facts[0]!.health['18_34'].private });
    expect(sumOrNull([3, null, 4])).toBeNull();
    expect(sumOrNull([3, 0, 4])).toBe(7);
  });
});

describe('income', () => {
  it('keeps per-capita income NULL for Chateau and South Shore (ACS markers), population known', () => {
    for (const name of ['Chateau', 'South Shore']) {
      const [row] = byName(cubes.income, name);
      expect(row).toMatchObject({
        aggregate_income: null,
        per_capita_income: null,
        income_bracket: null,
        unknown_neighborhoods: 1,
      });
      expect(row!.population).toBeGreaterThan(0);
    }
    expect(
      cubes.income.filter((r) => r.grain === 'neighborhood' && r.per_capita_income === null),
    ).toHaveLength(2);
  });

  it('computes per-capita income as aggregate income / population', () => {
    const [row] = byName(cubes.income, 'Allegheny Center');
    expect(row!.population).toBe(1411);
    expect(row!.aggregate_income).toBe(39947000);
    expect(row!.per_capita_income).toBeCloseTo(39947000 / 1411, 9);
    expect(ratioOrNull(5, 0)).toBeNull();
    expect(ratioOrNull(null, 5)).toBeNull();
  });

  it('splits the 89 known neighborhoods into quintiles 1..5 of per-capita income, balanced and ordered', () => {
    const rows = cubes.income.filter((r) => r.grain === 'neighborhood' && r.income_bracket !== null);
    expect(rows).toHaveLength(89);
    const sizes = [1, 2, 3, 4, 5].map((b) => rows.filter((r) => r.income_bracket === b).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(sizes.reduce((a, b) => a + b)).toBe(89);
    for (let b = 1; b < 5; b++) {
      const top = Math.max(
        ...rows.filter((r) => r.income_bracket === b).map((r) => r.per_capita_income as number),
      );
      const bottom = Math.min(
        ...rows.filter((r) => r.income_bracket === b + 1).map((r) => r.per_capita_income as number),
      );
      expect(top).toBeLessThanOrEqual(bottom);
    }
    // Every cube carries the neighborhood's bracket.
    const [hi] = byName(cubes.health_insurance, 'Allegheny Center');
    expect(hi!.income_bracket).toBe(byName(cubes.income, 'Allegheny Center')[0]!.income_bracket);
  });

  it('gives no bracket to anyone when no per-capita income is known', () => {
    const unknown = facts.slice(0, 3).map((f) => ({ ...f, aggregateIncome: null }));
    expect(incomeBrackets(unknown).size).toBe(0);
    expect(perCapitaIncome(unknown[0]!)).toBeNull();
  });
});

describe('roll-ups', () => {
  it('sums only complete neighborhoods and counts the unknown ones, never as 0', () => {
    const city = cubes.income.find((r) => r.grain === 'city')!;
    const complete = facts.filter((f) => f.aggregateIncome !== null && f.population !== null);
    expect(city).toMatchObject({
      neighborhoods: 91,
      unknown_neighborhoods: 2,
      population: complete.reduce((s, f) => s + f.population!, 0),
      aggregate_income: complete.reduce((s, f) => s + f.aggregateIncome!, 0),
    });
    expect(city.per_capita_income).toBeCloseTo(
      (city.aggregate_income as number) / (city.population as number),
      9,
    );
  });

  it('has one row per bracket 1..5 whose members add up to the city', () => {
    const brackets = cubes.income.filter((r) => r.grain === 'income_bracket');
    expect(brackets.map((r) => r.income_bracket)).toEqual([1, 2, 3, 4, 5]);
    const city = cubes.income.find((r) => r.grain === 'city')!;
    expect(brackets.reduce((s, r) => s + (r.population as number), 0)).toBe(city.population);
    expect(brackets.reduce((s, r) => s + (r.neighborhoods as number), 0)).toBe(89);
    const perCapita = brackets.map((r) => r.per_capita_income as number);
    expect([...perCapita].sort((a, b) => a - b)).toEqual(perCapita);
  });
});

describe('roll-ups with unknown members', () => {
  it('leaves a roll-up NULL when no member is known, and excludes a member with one unknown cell', () => {
    const counts = (v: number | null): HealthCounts => ({
      total: v === null ? null : 4 * v,
      private: v,
      public: v,
      both: v,
      uninsured: v,
    });
    const make = (id: number, v: number | null, hh: number | null): NeighborhoodFacts => ({
      id,
      neighborhood: `N${id}`,
      population: 100,
      aggregateIncome: 1000 * id,
      health: { under_18: counts(v), '18_34': counts(v), '35_64': counts(v), '65_plus': counts(v) },
      households: hh,
      withSelfEmploymentIncome: hh === null ? null : 1,
      withoutSelfEmploymentIncome: hh === null ? null : hh - 1,
    });
    const one = make(1, 10, null);
    one.health.under_18 = { ...one.health.under_18, public: null };
    const rows = buildCubes('2026-01-01', [one, make(2, 20, null), make(3, 30, null)]);
    const city = (r: CubeRow[]) => r.filter((x) => x.grain === 'city');
    const [under18] = city(rows.health_insurance);
    expect(under18).toMatchObject({
      total: 200,
      private: 50,
      public: 50,
      uninsured: 50,
      neighborhoods: 3,
      unknown_neighborhoods: 1,
    });
    expect(city(rows.self_employment)[0]).toMatchObject({
      households: null,
      with_self_employment_income: null,
      self_employment_rate: null,
      neighborhoods: 3,
      unknown_neighborhoods: 3,
    });
    // The neighborhood row keeps its known cells; only the unknown sector is NULL.
    expect(
      rows.health_insurance.find((r) => r.neighborhood_id === 1 && r.age_group === 'under_18'),
    ).toMatchObject({
      total: 40,
      private: 10,
      public: null,
      uninsured_rate: 0.25,
      unknown_neighborhoods: 1,
    });
    // Empty brackets still get a row, with NULL measures (3 neighborhoods, quintiles 1, 2, 4).
    const brackets = rows.income.filter((r) => r.grain === 'income_bracket');
    expect(brackets.map((r) => r.neighborhoods)).toEqual([1, 1, 0, 1, 0]);
    expect(brackets[2]).toMatchObject({ population: null, aggregate_income: null, per_capita_income: null });
  });

  it('computes the self-employment rate from households', () => {
    const f = {
      ...facts[0]!,
      households: 200,
      withSelfEmploymentIncome: 30,
      withoutSelfEmploymentIncome: 170,
    };
    const [row] = buildCubes('2026-01-01', [f]).self_employment;
    expect(row).toMatchObject({
      households: 200,
      with_self_employment_income: 30,
      self_employment_rate: 0.15,
    });
  });
});
