// ACS table B27010 (types of health-insurance coverage by age) folded into the four coverage sectors
// of the health-insurance cube. The mapping is derived from the published labels of lib/sources.ts,
// so the 65+ group (no "Medicaid only" column, "two or more types" without a trailing colon) needs
// no special case: every leaf label is classified by its last segment, and an unknown leaf fails at
// load time instead of silently dropping people from a sector.
import type { AgeGroup } from '../../lib/cubes.ts';
import { SOURCES, columnName } from '../../lib/sources.ts';

export type Sector = 'private' | 'public' | 'both' | 'uninsured';
export const SECTORS: readonly Sector[] = ['private', 'public', 'both', 'uninsured'];

const AGE_PREFIXES: ReadonlyArray<readonly [string, AgeGroup]> = [
  ['Under 18 years', 'under_18'],
  ['18 to 34 years', '18_34'],
  ['35 to 64 years', '35_64'],
  ['65 years and over', '65_plus'],
];

/** Leaf label (last ` - ` segment) -> sector. Private/public "only" combos stay in their sector. */
const LEAF_SECTORS: ReadonlyMap<string, Sector> = new Map([
  ['With employer-based health insurance only', 'private'],
  ['With direct-purchase health insurance only', 'private'],
  ['With TRICARE/military health coverage only', 'private'],
  ['With employer-based and direct-purchase coverage', 'private'],
  ['Other private only combinations', 'private'],
  ['With Medicare coverage only', 'public'],
  ['With Medicaid/means-tested public coverage only', 'public'],
  ['With VA Health Care only', 'public'],
  ['With Medicare and Medicaid/means-tested public coverage', 'public'],
  ['Other public only combinations', 'public'],
  ['With employer-based and Medicare coverage', 'both'],
  ['With direct-purchase and Medicare coverage', 'both'],
  ['Other coverage combinations', 'both'],
  ['No health insurance coverage', 'uninsured'],
]);

/** Intermediate subtotals ("With one type ...:"): their leaves are counted instead. */
const SUBTOTAL_LEAVES = new Set([
  'With one type of health insurance coverage:',
  'With two or more types of health insurance coverage:',
  'With two or more types of health insurance coverage',
]);

export interface AgeGroupColumns {
  /** Estimate column of the age group's subtotal. */
  total: string;
  /** Estimate columns summed into each sector. */
  sectors: Record<Sector, string[]>;
}

function buildMapping(): Record<AgeGroup, AgeGroupColumns> {
  const source = SOURCES.health_insurance;
  const est = (label: string) => columnName(source.prefix, `Estimate; ${label}`);
  const mapping = {} as Record<AgeGroup, AgeGroupColumns>;
  for (const label of source.labels) {
    if (label === 'Total:') continue;
    const age = AGE_PREFIXES.find(([prefix]) => label.startsWith(prefix));
    if (!age) throw new Error(`health-insurance label without an age group: ${label}`);
    const group = (mapping[age[1]] ??= {
      total: '',
      sectors: { private: [], public: [], both: [], uninsured: [] },
    });
    if (label === `${age[0]}:`) {
      group.total = est(label);
      continue;
    }
    const leaf = label.split(' - ').at(-1) ?? '';
    if (SUBTOTAL_LEAVES.has(leaf)) continue;
    const sector = LEAF_SECTORS.get(leaf);
    if (!sector) throw new Error(`health-insurance label not classified into a sector: ${label}`);
    group.sectors[sector].push(est(label));
  }
  for (const [, group] of AGE_PREFIXES) {
    if (!mapping[group]?.total) throw new Error(`health-insurance age group ${group} has no subtotal`);
  }
  return mapping;
}

/** Per age group: the subtotal column and the columns of each sector. */
export const HEALTH_SECTOR_COLUMNS: Readonly<Record<AgeGroup, AgeGroupColumns>> = buildMapping();

/** Every health-insurance column the cube reads. */
export const HEALTH_COLUMNS_USED: readonly string[] = Object.values(HEALTH_SECTOR_COLUMNS).flatMap((g) => [
  g.total,
  ...Object.values(g.sectors).flat(),
]);
