// The DuckDB anchor of compute_cube, as SQL built from lib/sources.ts and lib/cubes.ts: from the
// stream events of one date keep each Id's latest (highest loop, then partition, then offset), join
// its attributes, and build the three cubes with their income-bracket and city roll-ups under the
// task's NULL rules (a sector with an unknown cell is unknown; roll-ups sum complete members only and
// count the others). Input tables: `events` and `joined_attributes` as in base_de_donnees.db.
// Pure: returns statements, runs nothing.
import { AGE_GROUPS, type AgeGroup } from '../../lib/cubes.ts';
import { SOURCES, columnName } from '../../lib/sources.ts';
import { quoteIdent, quoteLiteral } from './transform-sql.ts';

type Sector = 'private' | 'public' | 'both' | 'uninsured';
const SECTORS: readonly Sector[] = ['private', 'public', 'both', 'uninsured'];

const AGE_LABELS: Record<AgeGroup, string> = {
  under_18: 'Under 18 years',
  '18_34': '18 to 34 years',
  '35_64': '35 to 64 years',
  '65_plus': '65 years and over',
};

/** B27010 leaf label -> coverage sector; subtotal labels are not leaves. */
export function sectorOfLeaf(leaf: string): Sector | 'subtotal' {
  if (leaf.startsWith('With one type') || leaf.startsWith('With two or more types')) return 'subtotal';
  if (leaf === 'No health insurance coverage') return 'uninsured';
  if (leaf === 'Other private only combinations') return 'private';
  if (leaf === 'Other public only combinations') return 'public';
  if (leaf === 'Other coverage combinations') return 'both';
  const privateKind = /employer-based|direct-purchase|TRICARE/.test(leaf);
  const publicKind = /Medicare|Medicaid|VA Health/.test(leaf);
  if (privateKind && publicKind) return 'both';
  if (privateKind) return 'private';
  if (publicKind) return 'public';
  throw new Error(`unclassified health-insurance label: ${leaf}`);
}

export interface AgeColumns {
  total: string;
  sectors: Record<Sector, string[]>;
}

export function healthColumns(): Record<AgeGroup, AgeColumns> {
  const source = SOURCES.health_insurance;
  const est = (label: string): string => columnName(source.prefix, `Estimate; ${label}`);
  const out = {} as Record<AgeGroup, AgeColumns>;
  for (const age of AGE_GROUPS) {
    const prefix = AGE_LABELS[age];
    const group: AgeColumns = {
      total: est(`${prefix}:`),
      sectors: { private: [], public: [], both: [], uninsured: [] },
    };
    for (const label of source.labels) {
      if (!label.startsWith(`${prefix}: - `)) continue;
      const sector = sectorOfLeaf(label.split(' - ').at(-1)!);
      if (sector !== 'subtotal') group.sectors[sector].push(est(label));
    }
    out[age] = group;
  }
  return out;
}

const se = (label: string): string => columnName(SOURCES.self_employment.prefix, `Estimate; ${label}`);
export const INCOME_COLUMN = columnName(SOURCES.income.prefix, `Estimate; ${SOURCES.income.labels[0]}`);

/** `a + b + c` (NULL when any term is NULL, as the task's sumOrNull). */
function sumSql(columns: readonly string[]): string {
  return columns.length === 0 ? 'NULL' : columns.map((c) => `a.${quoteIdent(c)}`).join(' + ');
}

function factsSql(date: string): string[] {
  const health = healthColumns();
  const healthCols = AGE_GROUPS.flatMap((age) => [
    `a.${quoteIdent(health[age].total)} AS hi_${age}_total`,
    ...SECTORS.map((s) => `${sumSql(health[age].sectors[s])} AS hi_${age}_${s}`),
  ]);
  return [
    `CREATE OR REPLACE TEMP TABLE latest AS SELECT id, arg_max(neighborhood, (loop, kafka_partition, kafka_offset)) AS neighborhood, arg_max(population_estimate_total, (loop, kafka_partition, kafka_offset)) AS population FROM events WHERE date = ${quoteLiteral(date)} GROUP BY id`,
    `CREATE OR REPLACE TEMP TABLE facts AS SELECT l.id, l.neighborhood, l.population, a.${quoteIdent(INCOME_COLUMN)} AS aggregate_income, ${healthCols.join(', ')}, a.${quoteIdent(se('Total:'))} AS households, a.${quoteIdent(se('Total: - With self-employment income'))} AS with_se, a.${quoteIdent(se('Total: - No self-employment income'))} AS without_se FROM latest l JOIN joined_attributes a ON a.date = ${quoteLiteral(date)} AND a.id = l.id`,
    // Quintiles among known per-capita incomes: rank by value then Id, bracket = floor(rank*5/n)+1.
    `CREATE OR REPLACE TEMP TABLE members AS SELECT f.*, b.bracket FROM facts f LEFT JOIN (SELECT id, CAST(floor((row_number() OVER (ORDER BY pci, id) - 1) * 5 / count(*) OVER ()) AS INTEGER) + 1 AS bracket FROM (SELECT id, aggregate_income / NULLIF(population, 0) AS pci FROM facts) WHERE pci IS NOT NULL) b USING (id)`,
  ];
}

/**
 * One cube as a UNION of its neighborhood rows and its roll-ups (brackets 1..5, always present, and
 * the city). `source` yields one row per member (per age group for health insurance, with
 * `age_group`); `measures` maps column -> member expression; `ratio` = [column, numerator, denominator].
 */
export interface CubeSpec {
  table: string;
  source: string;
  complete: string;
  measures: readonly (readonly [string, string])[];
  ratio: readonly [string, string, string];
  byAge: boolean;
}

function cubeSql(spec: CubeSpec, date: string): string {
  const d = quoteLiteral(date);
  const names = spec.measures.map(([name]) => quoteIdent(name));
  const [ratioName, num, den] = spec.ratio;
  const ratio = `CAST(${quoteIdent(num)} AS DOUBLE) / NULLIF(${quoteIdent(den)}, 0) AS ${quoteIdent(ratioName)}`;
  const perMember = spec.measures.map(([name, expr]) => `${expr} AS ${quoteIdent(name)}`).join(', ');
  const rolled = spec.measures.map(
    ([name, expr]) => `sum(CASE WHEN ${spec.complete} THEN ${expr} END) AS ${quoteIdent(name)}`,
  );
  const counts = `count(m.id) AS neighborhoods, count(m.id) FILTER (WHERE NOT (${spec.complete})) AS unknown_neighborhoods`;
  const age = spec.byAge ? ', age_group' : '';
  const ages = `(VALUES ${AGE_GROUPS.map((a) => `(${quoteLiteral(a)})`).join(', ')}) ag(age_group)`;
  return `CREATE OR REPLACE TABLE ${spec.table} AS
    SELECT ${d} AS date, 'neighborhood' AS grain, neighborhood, id AS neighborhood_id, bracket AS income_bracket${age}, ${names.join(', ')}, ${ratio}, 1 AS neighborhoods, unknown AS unknown_neighborhoods
      FROM (SELECT m.id, m.neighborhood, m.bracket${spec.byAge ? ', m.age_group' : ''}, ${perMember}, CASE WHEN ${spec.complete} THEN 0 ELSE 1 END AS unknown FROM ${spec.source} m)
    UNION ALL
    SELECT ${d}, 'income_bracket', NULL, NULL, income_bracket${age}, ${names.join(', ')}, ${ratio}, neighborhoods, unknown_neighborhoods
      FROM (SELECT CAST(r.bracket AS INTEGER) AS income_bracket${spec.byAge ? ', ag.age_group' : ''}, ${rolled.join(', ')}, ${counts}
            FROM range(1, 6) r(bracket) ${spec.byAge ? `CROSS JOIN ${ages}` : ''}
            LEFT JOIN ${spec.source} m ON m.bracket = r.bracket ${spec.byAge ? 'AND m.age_group = ag.age_group' : ''}
            GROUP BY ALL)
    UNION ALL
    SELECT ${d}, 'city', NULL, NULL, NULL${age}, ${names.join(', ')}, ${ratio}, neighborhoods, unknown_neighborhoods
      FROM (SELECT ${spec.byAge ? 'm.age_group, ' : ''}${rolled.join(', ')}, ${counts} FROM ${spec.source} m ${spec.byAge ? 'GROUP BY m.age_group' : ''})`;
}

export function cubeAnchorSql(date: string): string[] {
  // Health insurance has one row per age group: its members are unpivoted by age first.
  const byAge = AGE_GROUPS.map(
    (age) =>
      `SELECT id, neighborhood, bracket, ${quoteLiteral(age)} AS age_group, hi_${age}_total AS total, ${SECTORS.map((s) => `hi_${age}_${s} AS ${quoteIdent(s)}`).join(', ')} FROM members`,
  ).join(' UNION ALL ');
  const specs: CubeSpec[] = [
    {
      table: 'cube_income',
      source: 'members',
      complete: 'm.population IS NOT NULL AND m.aggregate_income IS NOT NULL',
      measures: [
        ['population', 'm.population'],
        ['aggregate_income', 'm.aggregate_income'],
      ],
      ratio: ['per_capita_income', 'aggregate_income', 'population'],
      byAge: false,
    },
    {
      table: 'cube_self_employment',
      source: 'members',
      complete: 'm.households IS NOT NULL AND m.with_se IS NOT NULL AND m.without_se IS NOT NULL',
      measures: [
        ['households', 'm.households'],
        ['with_self_employment_income', 'm.with_se'],
        ['without_self_employment_income', 'm.without_se'],
      ],
      ratio: ['self_employment_rate', 'with_self_employment_income', 'households'],
      byAge: false,
    },
    {
      table: 'cube_health_insurance',
      source: `(${byAge})`,
      complete: `m.total IS NOT NULL AND ${SECTORS.map((s) => `m.${quoteIdent(s)} IS NOT NULL`).join(' AND ')}`,
      measures: [['total', 'm.total'], ...SECTORS.map((s) => [s, `m.${quoteIdent(s)}`] as const)],
      ratio: ['uninsured_rate', 'uninsured', 'total'],
      byAge: true,
    },
  ];
  return [...factsSql(date), ...specs.map((spec) => cubeSql(spec, date))];
}
