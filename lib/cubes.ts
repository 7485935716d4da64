// The cube catalogue: the one definition of cube_analytics.db. compute-cube creates its tables from
// it, the API checks every cube and column name against it and builds its OpenAPI schemas from it.
//
// Every cube table shares the dimensions below. `grain` says which roll-up a row is:
//   neighborhood    one neighborhood (neighborhood, neighborhood_id and income_bracket set)
//   income_bracket  all neighborhoods of one city quintile of per-capita income (neighborhood NULL)
//   city            the whole city (neighborhood and income_bracket NULL)
// Unknown inputs stay NULL all the way through: a NULL is never summed as 0 into a known value.

import { quoteIdent } from './sqlite.ts';

export type SqlType = 'TEXT' | 'INTEGER' | 'REAL';

export interface CubeColumn {
  name: string;
  type: SqlType;
  nullable: boolean;
  description: string;
}

export interface CubeDefinition {
  name: CubeName;
  table: string;
  description: string;
  dimensions: readonly CubeColumn[];
  measures: readonly CubeColumn[];
}

export type CubeName = 'health_insurance' | 'income' | 'self_employment';
export type Grain = 'neighborhood' | 'income_bracket' | 'city';
export const GRAINS: readonly Grain[] = ['neighborhood', 'income_bracket', 'city'];

export const AGE_GROUPS = ['under_18', '18_34', '35_64', '65_plus'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];

/** City quintiles of per-capita income: 1 = lowest fifth, 5 = highest. */
export const INCOME_BRACKETS = [1, 2, 3, 4, 5] as const;

const col = (name: string, type: SqlType, nullable: boolean, description: string): CubeColumn => ({
  name,
  type,
  nullable,
  description,
});

// Every cube row says how many neighborhoods it covers and how many of them had an unknown input and
// were left out of its sums (roll-ups sum complete members only; see tasks/compute-cube/cube-math.ts).
const MEMBER_MEASURES: readonly CubeColumn[] = [
  col('neighborhoods', 'INTEGER', false, 'Number of neighborhoods in the row'),
  col(
    'unknown_neighborhoods',
    'INTEGER',
    false,
    'Neighborhoods of the row with an unknown input, left out of its sums (never counted as 0)',
  ),
];

const COMMON_DIMENSIONS: readonly CubeColumn[] = [
  col('date', 'TEXT', false, 'Logical date of the pipeline run (YYYY-MM-DD)'),
  col('grain', 'TEXT', false, 'Roll-up level: neighborhood, income_bracket or city'),
  col('neighborhood', 'TEXT', true, 'Neighborhood name (NULL on roll-up rows)'),
  col('neighborhood_id', 'INTEGER', true, 'Census Id of the neighborhood (NULL on roll-up rows)'),
  col(
    'income_bracket',
    'INTEGER',
    true,
    'City quintile of per-capita income, 1 (lowest) to 5; NULL when unknown or city-wide',
  ),
];

/**
 * The measures of a cube: its counts (INTEGER, NULL when unknown), then its ratio (REAL), then the
 * member counts every cube has.
 */
function measures(
  counts: readonly (readonly [string, string])[],
  ratio: readonly [string, string],
): CubeColumn[] {
  return [
    ...counts.map(([name, description]) => col(name, 'INTEGER', true, description)),
    col(ratio[0], 'REAL', true, ratio[1]),
    ...MEMBER_MEASURES,
  ];
}

export const CUBES: Readonly<Record<CubeName, CubeDefinition>> = {
  health_insurance: {
    name: 'health_insurance',
    table: 'cube_health_insurance',
    description: 'Health-insurance coverage (ACS B27010) by neighborhood x age group x coverage sector',
    dimensions: [
      ...COMMON_DIMENSIONS,
      col('age_group', 'TEXT', false, 'Age group: under_18, 18_34, 35_64 or 65_plus'),
    ],
    measures: measures(
      [
        ['total', 'Civilian non-institutionalised population of the age group'],
        ['private', 'People with private coverage only (employer-based, direct-purchase, TRICARE)'],
        ['public', 'People with public coverage only (Medicare, Medicaid, VA)'],
        ['both', 'People with both private and public coverage'],
        ['uninsured', 'People with no health-insurance coverage'],
      ],
      ['uninsured_rate', 'uninsured / total; NULL when total is 0 or unknown'],
    ),
  },
  income: {
    name: 'income',
    table: 'cube_income',
    description: 'Population and aggregate household income (2015 dollars) by neighborhood',
    dimensions: COMMON_DIMENSIONS,
    measures: measures(
      [
        ['population', 'Total population estimate'],
        ['aggregate_income', 'Aggregate household income; NULL when unknown'],
      ],
      ['per_capita_income', 'aggregate_income / population; NULL when either is unknown or population is 0'],
    ),
  },
  self_employment: {
    name: 'self_employment',
    table: 'cube_self_employment',
    description: 'Households with and without self-employment income (ACS B19053) by neighborhood',
    dimensions: COMMON_DIMENSIONS,
    measures: measures(
      [
        ['households', 'Households'],
        ['with_self_employment_income', 'Households with self-employment income'],
        ['without_self_employment_income', 'Households without self-employment income'],
      ],
      [
        'self_employment_rate',
        'with_self_employment_income / households; NULL when households is 0 or unknown',
      ],
    ),
  },
};

export const CUBE_NAMES = Object.keys(CUBES) as CubeName[];

export function isCubeName(name: string): name is CubeName {
  return Object.hasOwn(CUBES, name);
}

export function columnsOf(cube: CubeDefinition): CubeColumn[] {
  return [...cube.dimensions, ...cube.measures];
}

/** CREATE TABLE of a cube, from the catalogue; the key is every dimension but the derived ones. */
export function createTableSql(cube: CubeDefinition): string {
  const cols = columnsOf(cube).map((c) => `${quoteIdent(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(cube.table)} (${cols.join(', ')})`;
}

/** Row type of a cube as the API and tests see it. */
export type CubeRow = Record<string, string | number | null>;

/** One row per compute-cube run (history kept across dates and re-runs): when, from what, how much. */
export const CUBE_RUNS_TABLE = 'cube_runs';
export const CUBE_RUNS_DDL = `CREATE TABLE IF NOT EXISTS "cube_runs" (
  "run_id" TEXT NOT NULL PRIMARY KEY, "date" TEXT NOT NULL, "built_at" TEXT NOT NULL,
  "rows_in" INTEGER NOT NULL, "neighborhoods" INTEGER NOT NULL, "unknown_income" INTEGER NOT NULL,
  "rows_out" INTEGER NOT NULL, "duration_ms" INTEGER NOT NULL, "source" TEXT NOT NULL,
  "newest_event_at" TEXT)`;
