// The cube maths: pure functions from one typed record per neighborhood (its latest population event
// joined with its attributes) to the rows of the three cubes of lib/cubes.ts. No I/O here. The task
// computes the same rows in SQL (cube-sql.ts, reading the facts of FACT_FIELDS below); these
// functions are the reference its tests compare it with, row for row.
//
// NULL rules (a NULL is never summed as 0):
// - a sector is the sum of its ACS cells; one unknown cell makes the sector unknown;
// - per-capita income = aggregate income / population, NULL when either is unknown or population 0;
// - a roll-up row (income bracket, city) sums its *complete* members only: a member whose measures
//   in that cube (or age group) are all known. `neighborhoods` counts every member and
//   `unknown_neighborhoods` the incomplete ones left out of the sums, so the measures of a row stay
//   consistent with each other (sectors add up to total, per-capita = aggregate / population) and
//   a partial sum is never passed off as complete. A roll-up without a complete member is NULL.
import { AGE_GROUPS, INCOME_BRACKETS, type AgeGroup, type CubeName, type CubeRow } from '../../lib/cubes.ts';
import { SOURCES, columnName } from '../../lib/sources.ts';
import { HEALTH_COLUMNS_USED, HEALTH_SECTOR_COLUMNS, SECTORS, type Sector } from './health-sectors.ts';

export interface HealthCounts {
  total: number | null;
  private: number | null;
  public: number | null;
  both: number | null;
  uninsured: number | null;
}

/** One neighborhood for one date: population from the event, the rest from the joined attributes. */
export interface NeighborhoodFacts {
  id: number;
  neighborhood: string;
  population: number | null;
  aggregateIncome: number | null;
  health: Record<AgeGroup, HealthCounts>;
  households: number | null;
  withSelfEmploymentIncome: number | null;
  withoutSelfEmploymentIncome: number | null;
}

/** Columns of donnees_formatees_latest (and of all_data_joined.csv) the cubes read. */
export const POPULATION_COLUMN = 'population_estimate_total';
export const INCOME_COLUMN = columnName(SOURCES.income.prefix, `Estimate; ${SOURCES.income.labels[0]}`);
const se = (label: string) => columnName(SOURCES.self_employment.prefix, `Estimate; ${label}`);
export const SELF_EMPLOYMENT_COLUMNS = {
  households: se('Total:'),
  with: se('Total: - With self-employment income'),
  without: se('Total: - No self-employment income'),
} as const;

export const ATTRIBUTE_COLUMNS: readonly string[] = [
  INCOME_COLUMN,
  ...HEALTH_COLUMNS_USED,
  SELF_EMPLOYMENT_COLUMNS.households,
  SELF_EMPLOYMENT_COLUMNS.with,
  SELF_EMPLOYMENT_COLUMNS.without,
];

type Cell = number | null;

/** Sum that stays unknown when any term is unknown. */
export function sumOrNull(values: readonly Cell[]): Cell {
  let sum = 0;
  for (const v of values) {
    if (v === null) return null;
    sum += v;
  }
  return sum;
}

export function ratioOrNull(numerator: Cell, denominator: Cell): Cell {
  if (numerator === null || denominator === null || denominator === 0) return null;
  return numerator / denominator;
}

/** A number the cubes read from a neighborhood's row: the sum of `columns` (one column: its value). */
export interface FactField {
  /** Column of the field in compute-cube's facts table (cube-sql.ts). */
  name: string;
  columns: readonly string[];
  set: (facts: NeighborhoodFacts, value: Cell) => void;
}

const field = (name: string, columns: readonly string[], set: FactField['set']): FactField => ({
  name,
  columns,
  set,
});

/** Facts-table column of one health count of an age group (`hi_18_34_total`, `hi_18_34_public`). */
export const healthField = (age: AgeGroup, key: 'total' | Sector): string => `hi_${age}_${key}`;

/**
 * Every number of NeighborhoodFacts, in a fixed order. A sum follows sumOrNull (one unknown term
 * makes it unknown), so SQLite's NULL-propagating `+` computes the same value in the query
 * (read-input.ts) as the reference reader of raw rows does in the tests (test/fixtures/cube-reference.ts).
 */
export const FACT_FIELDS: readonly FactField[] = [
  field('population', [POPULATION_COLUMN], (f, v) => (f.population = v)),
  field('aggregate_income', [INCOME_COLUMN], (f, v) => (f.aggregateIncome = v)),
  ...AGE_GROUPS.flatMap((age) => {
    const g = HEALTH_SECTOR_COLUMNS[age];
    return [
      field(healthField(age, 'total'), [g.total], (f, v) => (f.health[age].total = v)),
      ...SECTORS.map((sector) =>
        field(healthField(age, sector), g.sectors[sector], (f, v) => (f.health[age][sector] = v)),
      ),
    ];
  }),
  field('households', [SELF_EMPLOYMENT_COLUMNS.households], (f, v) => (f.households = v)),
  field('with_se', [SELF_EMPLOYMENT_COLUMNS.with], (f, v) => (f.withSelfEmploymentIncome = v)),
  field('without_se', [SELF_EMPLOYMENT_COLUMNS.without], (f, v) => (f.withoutSelfEmploymentIncome = v)),
];

const unknownHealth = (): HealthCounts => ({
  total: null,
  private: null,
  public: null,
  both: null,
  uninsured: null,
});

/** Facts from `[id, neighborhood, value of FACT_FIELDS[0], value of FACT_FIELDS[1], ...]`. */
export function factsFromFieldValues(row: readonly unknown[]): NeighborhoodFacts {
  const facts: NeighborhoodFacts = {
    id: Number(row[0]),
    neighborhood: String(row[1]),
    population: null,
    aggregateIncome: null,
    health: {
      under_18: unknownHealth(),
      '18_34': unknownHealth(),
      '35_64': unknownHealth(),
      '65_plus': unknownHealth(),
    },
    households: null,
    withSelfEmploymentIncome: null,
    withoutSelfEmploymentIncome: null,
  };
  for (let i = 0; i < FACT_FIELDS.length; i++) {
    const v = row[i + 2];
    FACT_FIELDS[i]!.set(facts, v === null || v === undefined ? null : Number(v));
  }
  return facts;
}

export function perCapitaIncome(f: NeighborhoodFacts): Cell {
  return ratioOrNull(f.aggregateIncome, f.population);
}

/**
 * City quintiles of per-capita income among the neighborhoods where it is known: rank ascending
 * (ties broken by Id, so the result is deterministic), bracket = floor(rank * 5 / n) + 1. Bracket
 * sizes differ by at most one. Neighborhoods with unknown per-capita income get no bracket.
 */
export function incomeBrackets(facts: readonly NeighborhoodFacts[]): Map<number, number> {
  const known: { id: number; value: number }[] = [];
  for (const f of facts) {
    const value = perCapitaIncome(f);
    if (value !== null) known.push({ id: f.id, value });
  }
  known.sort((a, b) => a.value - b.value || a.id - b.id);
  const brackets = new Map<number, number>();
  const n = known.length;
  known.forEach((k, rank) => brackets.set(k.id, Math.floor((rank * INCOME_BRACKETS.length) / n) + 1));
  return brackets;
}

/** Receives every row of every cube, in order: neighborhoods (by Id), brackets 1..5, city. */
export type CubeSink = (cube: CubeName, row: CubeRow) => void;

/** Sums of the complete members of one roll-up row (`sums` in measure order). */
interface Acc {
  sums: number[];
  complete: number;
  members: number;
}
const newAcc = (measures: number): Acc => ({
  sums: new Array<number>(measures).fill(0),
  complete: 0,
  members: 0,
});

/** Adds a member: its measures count only when all are known; it is counted either way. */
function accumulate(acc: Acc, values: readonly Cell[]): void {
  acc.members++;
  for (const v of values) if (v === null) return;
  acc.complete++;
  for (let i = 0; i < values.length; i++) acc.sums[i]! += values[i] as number;
}

/** The measures of a roll-up: the sums, or NULL when no member is complete. */
const rolled = (acc: Acc): Cell[] => acc.sums.map((v) => (acc.complete > 0 ? v : null));
const unknownCount = (acc: Acc): number => acc.members - acc.complete;

const HEALTH_KEYS = ['total', 'private', 'public', 'both', 'uninsured'] as const;

interface GroupAccs {
  income: Acc;
  selfEmployment: Acc;
  health: Record<AgeGroup, Acc>;
}
const newGroup = (): GroupAccs => ({
  income: newAcc(2),
  selfEmployment: newAcc(3),
  health: Object.fromEntries(AGE_GROUPS.map((a) => [a, newAcc(HEALTH_KEYS.length)])) as Record<AgeGroup, Acc>,
});

/** The dimensions of a row; `neighborhood` grain carries the member, roll-ups carry NULLs. */
interface Dims {
  date: string;
  grain: string;
  neighborhood: string | null;
  neighborhood_id: number | null;
  income_bracket: number | null;
}

function dims(date: string, grain: string, f: NeighborhoodFacts | null, bracket: number | null): Dims {
  return {
    date,
    grain,
    neighborhood: f ? f.neighborhood : null,
    neighborhood_id: f ? f.id : null,
    income_bracket: bracket,
  };
}

/** Each cube's measures in the order of the values handed to cubeRow, and its ratio's positions. */
const ROW_SHAPES: Record<
  CubeName,
  { measures: readonly string[]; ratio: readonly [string, number, number] }
> = {
  income: { measures: ['population', 'aggregate_income'], ratio: ['per_capita_income', 1, 0] },
  self_employment: {
    measures: ['households', 'with_self_employment_income', 'without_self_employment_income'],
    ratio: ['self_employment_rate', 1, 0],
  },
  health_insurance: { measures: HEALTH_KEYS, ratio: ['uninsured_rate', 4, 0] },
};

/** A row of `cube`: the dimensions, the measures `v`, their ratio, the member counts. */
function cubeRow(
  cube: CubeName,
  d: Dims,
  v: readonly Cell[],
  counts: { neighborhoods: number; unknown: number },
  age?: AgeGroup,
): CubeRow {
  const { measures, ratio } = ROW_SHAPES[cube];
  const row: CubeRow = { ...d, ...(age ? { age_group: age } : {}) };
  measures.forEach((m, i) => (row[m] = v[i] ?? null));
  row[ratio[0]] = ratioOrNull(v[ratio[1]] ?? null, v[ratio[2]] ?? null);
  row.neighborhoods = counts.neighborhoods;
  row.unknown_neighborhoods = counts.unknown;
  return row;
}

const member = (values: readonly Cell[]) => ({
  neighborhoods: 1,
  unknown: values.every((v) => v !== null) ? 0 : 1,
});
const rollupCounts = (acc: Acc) => ({ neighborhoods: acc.members, unknown: unknownCount(acc) });

/**
 * Every row of the three cubes for one date, streamed to `sink` in one pass over the neighborhoods
 * (roll-ups are running sums): one row per neighborhood (per age group for health insurance), one
 * per income bracket 1..5 (always all five, NULL measures when empty) and one for the city.
 */
export function emitCubes(date: string, facts: readonly NeighborhoodFacts[], sink: CubeSink): void {
  const brackets = incomeBrackets(facts);
  const groups = INCOME_BRACKETS.map(() => newGroup());
  const city = newGroup();
  const sorted = [...facts].sort((a, b) => a.id - b.id);
  for (const f of sorted) {
    const bracket = brackets.get(f.id) ?? null;
    const base = dims(date, 'neighborhood', f, bracket);
    const targets = bracket === null ? [city] : [groups[bracket - 1]!, city];

    const income = [f.population, f.aggregateIncome];
    const se = [f.households, f.withSelfEmploymentIncome, f.withoutSelfEmploymentIncome];
    sink('income', cubeRow('income', base, income, member(income)));
    sink('self_employment', cubeRow('self_employment', base, se, member(se)));
    for (const t of targets) {
      accumulate(t.income, income);
      accumulate(t.selfEmployment, se);
    }
    for (const age of AGE_GROUPS) {
      const h = f.health[age];
      const values = [h.total, h.private, h.public, h.both, h.uninsured];
      sink('health_insurance', cubeRow('health_insurance', base, values, member(values), age));
      for (const t of targets) accumulate(t.health[age], values);
    }
  }
  const rollups: [Dims, GroupAccs][] = [
    ...groups.map((g, i) => [dims(date, 'income_bracket', null, i + 1), g] as [Dims, GroupAccs]),
    [dims(date, 'city', null, null), city],
  ];
  for (const [base, g] of rollups) {
    sink('income', cubeRow('income', base, rolled(g.income), rollupCounts(g.income)));
    sink(
      'self_employment',
      cubeRow('self_employment', base, rolled(g.selfEmployment), rollupCounts(g.selfEmployment)),
    );
    for (const age of AGE_GROUPS) {
      const acc = g.health[age];
      sink('health_insurance', cubeRow('health_insurance', base, rolled(acc), rollupCounts(acc), age));
    }
  }
}
