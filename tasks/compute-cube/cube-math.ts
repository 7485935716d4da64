// The cube maths: pure functions from one typed record per neighborhood (its latest population event
// joined with its attributes) to the rows of the three cubes of lib/cubes.ts. No I/O here.
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

/**
 * Compiles a reader of positional rows (a SELECT in raw mode, a parsed CSV line) into facts.
 * `columns` names the positions; every attribute column must be present. Values must already be
 * numbers or null (cleaned upstream).
 */
export function factsReader(
  columns: readonly string[],
  idColumn = 'id',
  neighborhoodColumn = 'neighborhood',
  populationColumn = POPULATION_COLUMN,
): (row: readonly unknown[]) => NeighborhoodFacts {
  const index = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`input has no column ${name}`);
    return i;
  };
  const num = (row: readonly unknown[], i: number): Cell => {
    const v = row[i];
    if (v === null || v === undefined || v === '') return null;
    return typeof v === 'number' ? v : Number(v);
  };
  const idI = index(idColumn);
  const nameI = index(neighborhoodColumn);
  const popI = index(populationColumn);
  const incomeI = index(INCOME_COLUMN);
  const health = AGE_GROUPS.map((age) => {
    const g = HEALTH_SECTOR_COLUMNS[age];
    return {
      age,
      total: index(g.total),
      sectors: SECTORS.map((s) => [s, g.sectors[s].map(index)] as const),
    };
  });
  const hhI = index(SELF_EMPLOYMENT_COLUMNS.households);
  const withI = index(SELF_EMPLOYMENT_COLUMNS.with);
  const withoutI = index(SELF_EMPLOYMENT_COLUMNS.without);

  return (row) => {
    const healthFacts = {} as Record<AgeGroup, HealthCounts>;
    for (const g of health) {
      const counts: HealthCounts = {
        total: num(row, g.total),
        private: null,
        public: null,
        both: null,
        uninsured: null,
      };
      for (const [sector, cols] of g.sectors) counts[sector] = sumOrNull(cols.map((i) => num(row, i)));
      healthFacts[g.age] = counts;
    }
    return {
      id: Number(row[idI]),
      neighborhood: String(row[nameI]),
      population: num(row, popI),
      aggregateIncome: num(row, incomeI),
      health: healthFacts,
      households: num(row, hhI),
      withSelfEmploymentIncome: num(row, withI),
      withoutSelfEmploymentIncome: num(row, withoutI),
    };
  };
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

export type CubeRows = Record<CubeName, CubeRow[]>;

interface Member {
  facts: NeighborhoodFacts;
  bracket: number | null;
}

/** Dimensions of a row; `neighborhood` grain carries the member, roll-ups carry NULLs. */
function dims(date: string, grain: string, member: Member | null, bracket: number | null): CubeRow {
  return {
    date,
    grain,
    neighborhood: member ? member.facts.neighborhood : null,
    neighborhood_id: member ? member.facts.id : null,
    income_bracket: bracket,
  };
}

function incomeComplete(f: NeighborhoodFacts): boolean {
  return f.population !== null && f.aggregateIncome !== null;
}
function healthComplete(h: HealthCounts): boolean {
  return h.total !== null && SECTORS.every((s) => h[s] !== null);
}
function selfEmploymentComplete(f: NeighborhoodFacts): boolean {
  return (
    f.households !== null && f.withSelfEmploymentIncome !== null && f.withoutSelfEmploymentIncome !== null
  );
}

/** Sums `pick` over the complete members; NULL when there is none. */
function sumComplete<T>(items: readonly T[], complete: (t: T) => boolean, pick: (t: T) => Cell): Cell {
  let sum = 0;
  let any = false;
  for (const t of items) {
    if (!complete(t)) continue;
    sum += pick(t) as number;
    any = true;
  }
  return any ? sum : null;
}

function incomeRow(base: CubeRow, members: readonly Member[]): CubeRow {
  const facts = members.map((m) => m.facts);
  const single = members.length === 1 && base.grain === 'neighborhood';
  const population = single ? facts[0]!.population : sumComplete(facts, incomeComplete, (f) => f.population);
  const aggregate = single
    ? facts[0]!.aggregateIncome
    : sumComplete(facts, incomeComplete, (f) => f.aggregateIncome);
  return {
    ...base,
    population,
    aggregate_income: aggregate,
    per_capita_income: ratioOrNull(aggregate, population),
    neighborhoods: members.length,
    unknown_neighborhoods: facts.filter((f) => !incomeComplete(f)).length,
  };
}

function healthRow(base: CubeRow, age: AgeGroup, members: readonly Member[]): CubeRow {
  const counts = members.map((m) => m.facts.health[age]);
  const single = members.length === 1 && base.grain === 'neighborhood';
  const measure = (key: keyof HealthCounts): Cell =>
    single ? counts[0]![key] : sumComplete(counts, healthComplete, (h) => h[key]);
  const total = measure('total');
  const uninsured = measure('uninsured');
  const row: CubeRow = { ...base, age_group: age, total };
  for (const s of SECTORS) row[s] = measure(s as Sector);
  row.uninsured_rate = ratioOrNull(uninsured, total);
  row.neighborhoods = members.length;
  row.unknown_neighborhoods = counts.filter((h) => !healthComplete(h)).length;
  return row;
}

function selfEmploymentRow(base: CubeRow, members: readonly Member[]): CubeRow {
  const facts = members.map((m) => m.facts);
  const single = members.length === 1 && base.grain === 'neighborhood';
  const measure = (pick: (f: NeighborhoodFacts) => Cell): Cell =>
    single ? pick(facts[0]!) : sumComplete(facts, selfEmploymentComplete, pick);
  const households = measure((f) => f.households);
  const withIncome = measure((f) => f.withSelfEmploymentIncome);
  return {
    ...base,
    households,
    with_self_employment_income: withIncome,
    without_self_employment_income: measure((f) => f.withoutSelfEmploymentIncome),
    self_employment_rate: ratioOrNull(withIncome, households),
    neighborhoods: members.length,
    unknown_neighborhoods: facts.filter((f) => !selfEmploymentComplete(f)).length,
  };
}

/**
 * All rows of the three cubes for one date: one row per neighborhood (per age group for health
 * insurance), one per income bracket 1..5 (always all five, NULL measures when empty) and one for
 * the city. Neighborhoods come out sorted by Id.
 */
export function buildCubes(date: string, facts: readonly NeighborhoodFacts[]): CubeRows {
  const brackets = incomeBrackets(facts);
  const members: Member[] = [...facts]
    .sort((a, b) => a.id - b.id)
    .map((f) => ({ facts: f, bracket: brackets.get(f.id) ?? null }));
  const groups: { base: (cube: CubeName) => CubeRow; members: Member[] }[] = [];
  for (const m of members)
    groups.push({ base: () => dims(date, 'neighborhood', m, m.bracket), members: [m] });
  for (const b of INCOME_BRACKETS) {
    groups.push({
      base: () => dims(date, 'income_bracket', null, b),
      members: members.filter((m) => m.bracket === b),
    });
  }
  groups.push({ base: () => dims(date, 'city', null, null), members });

  const rows: CubeRows = { income: [], health_insurance: [], self_employment: [] };
  for (const g of groups) {
    rows.income.push(incomeRow(g.base('income'), g.members));
    rows.self_employment.push(selfEmploymentRow(g.base('self_employment'), g.members));
    for (const age of AGE_GROUPS)
      rows.health_insurance.push(healthRow(g.base('health_insurance'), age, g.members));
  }
  return rows;
}
