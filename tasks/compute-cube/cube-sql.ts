// The cubes as SQL run inside the new cube_analytics.db (cube-db.ts), so that no value crosses into
// JS: the date's rows of donnees_formatees_latest (attached as `src`) become one row of facts per
// neighborhood in a temporary table, SQLite ranks them into income brackets, and each cube is three
// INSERT ... SELECTs (neighborhood rows, bracket roll-ups, city roll-up). Same rules as the
// reference maths of cube-math.ts, which the tests compare it with row for row:
// - a sector is the NULL-propagating `+` of its cells (sumOrNull);
// - a ratio is NULL when either side is unknown or the denominator 0 (ratioOrNull: x / NULLIF(d, 0));
// - brackets: rank by (per-capita income, Id) among the known, bracket = rank * 5 / n + 1;
// - a roll-up sums its complete members only, counts every member and the incomplete ones, and is
//   NULL when none is complete (`sum` of a CASE without ELSE).
// Rows go in the reference's order: neighborhoods by Id (age groups in catalogue order), brackets
// 1..5, city. Pure: returns statements, runs nothing.
import { AGE_GROUPS, INCOME_BRACKETS, type CubeName } from '../../lib/cubes.ts';
import { CUBES } from '../../lib/cubes.ts';
import { quoteIdent } from '../../lib/sqlite.ts';
import { FACT_FIELDS, healthField } from './cube-math.ts';
import { SECTORS } from './health-sectors.ts';

const quote = quoteIdent;

/** The attached input database and the view the facts are read from. */
export const INPUT_SCHEMA = 'src';
export const INPUT_VIEW = 'donnees_formatees_latest';
/** When the event was produced (ISO-8601 UTC): what the cubes' freshness is measured from. */
export const PRODUCED_AT_COLUMN = 'produced_at';

const FACTS = 'temp.cube_facts';
const AGES = 'temp.cube_ages';
const BRACKETS = 'temp.cube_brackets';
const RANKS = 'temp.cube_ranks';

/**
 * The facts of one date (bound parameter) from the attached input: one row per neighborhood, Id as
 * rowid, per-capita income precomputed; `withProducedAt` when the view carries produced_at.
 */
export function loadFactsSql(withProducedAt: boolean): string[] {
  const names = FACT_FIELDS.map((f) => quote(f.name));
  const values = FACT_FIELDS.map((f) => f.columns.map(quote).join(' + '));
  const [population, income] = FACT_FIELDS.map((f) => f.columns.map(quote).join(' + '));
  return [
    // In the order of the cubes' index (neighborhood name, then Id), so that each cube's neighborhood
    // rows are one sequential scan; pci first: the ranking reads it from every row.
    `CREATE TEMP TABLE cube_facts (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL, pci REAL, neighborhood TEXT, ${names.join(', ')}, produced_at TEXT)`,
    `INSERT INTO ${FACTS} (id, pci, neighborhood, ${names.join(', ')}, produced_at)
       SELECT id, ${ratio(income!, population!)}, neighborhood, ${values.join(', ')},
         ${withProducedAt ? quote(PRODUCED_AT_COLUMN) : 'NULL'}
       FROM ${INPUT_SCHEMA}.${quote(INPUT_VIEW)} WHERE date = ? ORDER BY neighborhood, id`,
    // Quintiles among the known per-capita incomes, ties broken by Id: rank = rowid of the sorted
    // insert (a window function costs 3x more), bracket = (rank - 1) * 5 / n + 1.
    `CREATE TEMP TABLE cube_ranks (rank INTEGER PRIMARY KEY, seq INTEGER NOT NULL)`,
    `INSERT INTO ${RANKS} (seq) SELECT seq FROM ${FACTS} WHERE pci IS NOT NULL ORDER BY pci, id`,
    `CREATE TEMP TABLE cube_brackets (seq INTEGER PRIMARY KEY, bracket INTEGER NOT NULL)`,
    `INSERT INTO ${BRACKETS} (seq, bracket)
       SELECT seq, (rank - 1) * ${INCOME_BRACKETS.length} / (SELECT count(*) FROM ${RANKS}) + 1 FROM ${RANKS} ORDER BY seq`,
    // The roll-ups read the members bracket by bracket.
    `CREATE INDEX temp.cube_brackets_bracket ON cube_brackets (bracket)`,
    `CREATE TEMP TABLE cube_ages (k INTEGER PRIMARY KEY, age_group TEXT NOT NULL)`,
    `INSERT INTO ${AGES} VALUES ${AGE_GROUPS.map((a, k) => `(${k}, '${a}')`).join(', ')}`,
  ];
}

/** What the run records about its input: rows, neighborhoods without per-capita income, newest event. */
export const FACTS_SUMMARY_SQL = `SELECT count(*) AS rowsIn, count(*) - count(pci) AS unknownIncome,
  max(produced_at) AS newestEventAt FROM ${FACTS}`;

export const DROP_FACTS_SQL = [FACTS, RANKS, BRACKETS, AGES].map((t) => `DROP TABLE ${t}`);

function ratio(numerator: string, denominator: string): string {
  return `CAST(${numerator} AS REAL) / NULLIF(${denominator}, 0)`;
}

/** One cube's measures: column -> facts column (per age group for health insurance), and its ratio. */
interface CubeSpec {
  measures: readonly (readonly [string, (age: string) => string])[];
  ratio: readonly [string, string, string];
  byAge: boolean;
}

const fixed = (name: string) => () => name;

const SPECS: Record<CubeName, CubeSpec> = {
  income: {
    measures: [
      ['population', fixed('population')],
      ['aggregate_income', fixed('aggregate_income')],
    ],
    ratio: ['per_capita_income', 'aggregate_income', 'population'],
    byAge: false,
  },
  self_employment: {
    measures: [
      ['households', fixed('households')],
      ['with_self_employment_income', fixed('with_se')],
      ['without_self_employment_income', fixed('without_se')],
    ],
    ratio: ['self_employment_rate', 'with_self_employment_income', 'households'],
    byAge: false,
  },
  health_insurance: {
    measures: (['total', ...SECTORS] as const).map(
      (key) => [key, (age: string) => healthField(age as (typeof AGE_GROUPS)[number], key)] as const,
    ),
    ratio: ['uninsured_rate', 'uninsured', 'total'],
    byAge: true,
  },
};

/** The variants of a cube's members: one per age group for health insurance, else one. */
function variants(spec: CubeSpec): { k: number; age: string }[] {
  return spec.byAge ? AGE_GROUPS.map((age, k) => ({ k, age })) : [{ k: 0, age: '' }];
}

/** `CASE a.k WHEN 0 THEN x_0 ...` (the value of the row's age group), or `x_0` without age groups. */
function pick(spec: CubeSpec, column: (k: number) => string): string {
  if (!spec.byAge) return column(0);
  return `CASE a.k ${variants(spec)
    .map(({ k }) => `WHEN ${k} THEN ${column(k)}`)
    .join(' ')} END`;
}

/** The measures of one variant and whether they are all known (the member is complete). */
function variantMeasures(spec: CubeSpec, age: string): { columns: string[]; complete: string } {
  const columns = spec.measures.map(([, column]) => `f.${quote(column(age))}`);
  return { columns, complete: columns.map((c) => `${c} IS NOT NULL`).join(' AND ') };
}

/**
 * The neighborhood rows: one per neighborhood (per neighborhood x age group), with its measures,
 * and unknown_neighborhoods 1 when one of them is unknown. They go in the order of the cube's index
 * (date, grain, neighborhood), created before: its B-tree only grows at its end, which costs less
 * than a CREATE INDEX afterwards (0.5 s instead of 1.5 s for 1M rows, measured).
 */
function neighborhoodRowsSql(spec: CubeSpec, table: string, columns: string): string {
  const [, num, den] = spec.ratio.map(quote) as [string, string, string];
  const names = spec.measures.map(([m]) => quote(m));
  const measures = spec.measures.map(
    ([name], i) =>
      `${pick(spec, (k) => variantMeasures(spec, variants(spec)[k]!.age).columns[i]!)} AS ${quote(name)}`,
  );
  const complete = pick(spec, (k) => `(${variantMeasures(spec, variants(spec)[k]!.age).complete})`);
  const from = `${FACTS} AS f LEFT JOIN ${BRACKETS} AS b ON b.seq = f.seq${spec.byAge ? ` CROSS JOIN ${AGES} AS a` : ''}`;
  return `INSERT INTO main.${table} (${columns})
    SELECT ?, 'neighborhood', neighborhood, id, bracket${spec.byAge ? ', age_group' : ''}, ${names.join(', ')}, ${ratio(num, den)}, 1, NOT complete
    FROM (SELECT f.id, f.neighborhood, b.bracket${spec.byAge ? ', a.k, a.age_group' : ''}, ${measures.join(', ')}, ${complete} AS complete
          FROM ${from} ORDER BY f.seq${spec.byAge ? ', a.k' : ''})`;
}

/**
 * The members' sums by group: per bracket (`income_bracket`, driven by the bracket index: no sort),
 * the unranked (`unranked`, bracket NULL), then their total (`city`). Per variant: the complete
 * members and the sums of their measures (`complete_0`, `total_0`, ...); NULL sums stay NULL.
 */
function groupsSql(spec: CubeSpec, groups: string): string[] {
  const names = [
    'members',
    ...variants(spec).flatMap(({ k }) => [`complete_${k}`, ...spec.measures.map(([m]) => `${m}_${k}`)]),
  ];
  const aggregates = [
    'count(*)',
    ...variants(spec).flatMap(({ age }) => {
      const { columns, complete } = variantMeasures(spec, age);
      return [`sum(${complete})`, ...columns.map((c) => `sum(CASE WHEN ${complete} THEN ${c} END)`)];
    }),
  ].join(', ');
  const list = names.map(quote).join(', ');
  return [
    `CREATE TEMP TABLE ${groups} (grain TEXT NOT NULL, bracket INTEGER, ${list})`,
    `INSERT INTO ${groups} (grain, bracket, ${list})
       SELECT 'income_bracket', b.bracket, ${aggregates} FROM ${BRACKETS} AS b JOIN ${FACTS} AS f ON f.seq = b.seq GROUP BY b.bracket
       UNION ALL SELECT 'unranked', NULL, ${aggregates} FROM ${FACTS} AS f WHERE f.pci IS NULL`,
    `INSERT INTO ${groups} (grain, bracket, ${list}) SELECT 'city', NULL, ${names.map((n) => `sum(${quote(n)})`).join(', ')} FROM ${groups}`,
  ];
}

/** The roll-up rows: brackets 1..5 (always all five, NULL sums when empty), then the city. */
function rollupRowsSql(spec: CubeSpec, table: string, columns: string, groups: string): string {
  const [, num, den] = spec.ratio.map(quote) as [string, string, string];
  const names = spec.measures.map(([m]) => quote(m));
  const rows = [...INCOME_BRACKETS.map((b) => `'income_bracket', ${b}`), `'city', NULL`]
    .map((r, i) => `SELECT ${i} AS o, ${r.split(', ')[0]} AS grain, ${r.split(', ')[1]} AS bracket`)
    .join(' UNION ALL ');
  const measures = spec.measures.map(
    ([name]) => `${pick(spec, (k) => `g.${quote(`${name}_${k}`)}`)} AS ${quote(name)}`,
  );
  return `INSERT INTO main.${table} (${columns})
    SELECT ?, grain, NULL, NULL, bracket${spec.byAge ? ', age_group' : ''}, ${names.join(', ')}, ${ratio(num, den)}, members, members - complete
    FROM (SELECT r.o, r.grain, r.bracket${spec.byAge ? ', a.k, a.age_group' : ''}, ${measures.join(', ')},
            coalesce(g.members, 0) AS members, coalesce(${pick(spec, (k) => `g.complete_${k}`)}, 0) AS complete
          FROM (${rows}) AS r${spec.byAge ? ` CROSS JOIN ${AGES} AS a` : ''}
            LEFT JOIN ${groups} AS g ON g.grain = r.grain AND g.bracket IS r.bracket
          ORDER BY r.o${spec.byAge ? ', a.k' : ''})`;
}

/** A statement of a cube's build; `insertsRows`: it inserts rows of the date, bound as its parameter. */
export interface CubeStatement {
  sql: string;
  insertsRows: boolean;
}

/** The statements that insert one cube's rows for the date. */
export function cubeInsertsSql(name: CubeName): CubeStatement[] {
  const spec = SPECS[name];
  const table = quote(CUBES[name].table);
  const names = spec.measures.map(([m]) => quote(m));
  const columns = `date, grain, neighborhood, neighborhood_id, income_bracket${spec.byAge ? ', age_group' : ''}, ${names.join(', ')}, ${quote(spec.ratio[0])}, neighborhoods, unknown_neighborhoods`;
  const groups = `temp.${quote(`cube_groups_${name}`)}`;
  return [
    { sql: neighborhoodRowsSql(spec, table, columns), insertsRows: true },
    ...groupsSql(spec, groups).map((sql) => ({ sql, insertsRows: false })),
    { sql: rollupRowsSql(spec, table, columns, groups), insertsRows: true },
    { sql: `DROP TABLE ${groups}`, insertsRows: false },
  ];
}
