// Pure generation of one neighborhood's values for all four sources, from (seed, Id) alone.
// Internally consistent: households drive both the aggregate income and the self-employment
// totals; health-insurance leaves are drawn from age x coverage shares and summed upwards, so
// every subtotal equals the sum of its parts; margins follow the ACS shapes (a zero estimate has a
// margin of 10 per tract, a count's margin grows with its square root, a subtotal's margin is the
// root of its parts' squared margins, and multi-tract neighborhoods publish decimal margins).
import { SOURCES, type SourceName } from '../../lib/sources.ts';
import { buildLabelTree, type LabelTree } from './label-tree.ts';
import { neighborhoodNamer } from './names.ts';
import { Prng } from './prng.ts';

export interface GeneratedRow {
  id: number;
  neighborhood: string;
  /** Per source, the measure cells in header order: estimate, margin, estimate, margin, ... */
  measures: Record<SourceName, number[]>;
}

/** Given values for a row (e.g. from the real total-population file); the rest is drawn. */
export interface KnownRow {
  neighborhood?: string;
  population?: number;
}

const AGE_GROUPS = ['Under 18 years', '18 to 34 years', '35 to 64 years', '65 years and over'] as const;
/** Share of the population in each age group (civilian non-institutionalised: they sum below 1). */
const AGE_SHARES = [0.17, 0.3, 0.36, 0.15] as const;

/** Coverage categories, recognised from the last level of a leaf label. Order matters: first match. */
const COVERAGE_PATTERNS: readonly [string, RegExp][] = [
  ['employer', /^With employer-based health insurance only$/],
  ['direct', /^With direct-purchase health insurance only$/],
  ['medicare', /^With Medicare coverage only$/],
  ['medicaid', /^With Medicaid\/means-tested public coverage only$/],
  ['tricare', /^With TRICARE\/military health coverage only$/],
  ['va', /^With VA Health Care only$/],
  ['employerDirect', /^With employer-based and direct-purchase coverage$/],
  ['employerMedicare', /^With employer-based and Medicare coverage$/],
  ['directMedicare', /^With direct-purchase and Medicare coverage$/],
  ['medicareMedicaid', /^With Medicare and Medicaid\/means-tested public coverage$/],
  ['otherPrivate', /^Other private only combinations$/],
  ['otherPublic', /^Other public only combinations$/],
  ['otherCombinations', /^Other coverage combinations$/],
  ['none', /^No health insurance coverage$/],
];

/** Share of an age group in each coverage category (roughly the US pattern: Medicare at 65+). */
const COVERAGE_SHARES: Record<string, readonly number[]> = {
  // Under 18, 18-34, 35-64, 65+
  employer: [0.45, 0.52, 0.58, 0.04],
  direct: [0.03, 0.07, 0.06, 0.01],
  medicare: [0.002, 0.01, 0.02, 0.3],
  medicaid: [0.33, 0.14, 0.1, 0],
  tricare: [0.01, 0.005, 0.008, 0.003],
  va: [0.001, 0.005, 0.01, 0.005],
  employerDirect: [0.01, 0.02, 0.02, 0.005],
  employerMedicare: [0.001, 0.003, 0.02, 0.3],
  directMedicare: [0, 0, 0.005, 0.2],
  medicareMedicaid: [0.005, 0.01, 0.04, 0.08],
  otherPrivate: [0.005, 0.01, 0.005, 0.002],
  otherPublic: [0.01, 0.005, 0.01, 0.02],
  otherCombinations: [0.03, 0.03, 0.02, 0.03],
  none: [0.04, 0.15, 0.1, 0.005],
};

interface HealthLeaf {
  label: number;
  age: number;
  /** Share of the whole population expected in this leaf. */
  share: number;
}

function healthLeaves(tree: LabelTree): HealthLeaf[] {
  const labels = SOURCES.health_insurance.labels;
  const leaves: HealthLeaf[] = [];
  labels.forEach((label, i) => {
    if (!tree.isLeaf[i]) return;
    const age = AGE_GROUPS.findIndex((g) => label.startsWith(g));
    const last = label.split(' - ').at(-1)?.trim() ?? '';
    const category = COVERAGE_PATTERNS.find(([, re]) => re.test(last))?.[0];
    if (age === -1 || category === undefined) {
      throw new Error(`generator: no share for health-insurance label "${label}"`);
    }
    const share =
      (AGE_SHARES[age] as number) * ((COVERAGE_SHARES[category] as readonly number[])[age] as number);
    leaves.push({ label: i, age, share });
  });
  return leaves;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Values and margins of a labelled table, given its leaf estimates: sums and margins upwards. */
function fillTable(
  tree: LabelTree,
  estimates: Float64Array,
  margins: Float64Array,
  decimals: boolean,
): number[] {
  // Margins of parents are accumulated as sums of squares first.
  for (const i of tree.bottomUp) {
    if (!tree.isLeaf[i]) margins[i] = Math.sqrt(margins[i] as number);
    const p = tree.parent[i] as number;
    if (p !== -1) {
      estimates[p] = (estimates[p] as number) + (estimates[i] as number);
      margins[p] = (margins[p] as number) + (margins[i] as number) ** 2;
    }
  }
  const out = new Array<number>(estimates.length * 2);
  for (let i = 0; i < estimates.length; i++) {
    out[2 * i] = estimates[i] as number;
    const m = margins[i] as number;
    out[2 * i + 1] = decimals ? round3(m) : Math.round(m);
  }
  return out;
}

export type RowGenerator = (id: number, known?: KnownRow) => GeneratedRow;

/** A row generator for one seed (a 32-bit hash, see hashSeed). Pure: same (seed, id) -> same row. */
export function createRowGenerator(seed: number): RowGenerator {
  const nameOf = neighborhoodNamer(seed);
  const healthTree = buildLabelTree(SOURCES.health_insurance.labels);
  const leaves = healthLeaves(healthTree);
  const healthSize = SOURCES.health_insurance.labels.length;
  const selfTree = buildLabelTree(SOURCES.self_employment.labels);
  const selfWith = SOURCES.self_employment.labels.findIndex((l) => l.includes('With self-employment'));
  const selfWithout = SOURCES.self_employment.labels.findIndex((l) => l.includes('No self-employment'));
  const healthEstimates = new Float64Array(healthSize);
  const healthMargins = new Float64Array(healthSize);
  const selfEstimates = new Float64Array(3);
  const selfMargins = new Float64Array(3);

  return (id: number, known: KnownRow = {}): GeneratedRow => {
    const rng = new Prng(seed, id);
    // Population: log-normal around 2,500 like city neighborhoods, with a few near-empty ones.
    const population =
      known.population ??
      (rng.next() < 0.02
        ? rng.int(60)
        : Math.min(60_000, Math.round(Math.exp(Math.log(2500) + 0.9 * rng.normal()))));
    const tracts = Math.min(8, Math.max(1, Math.ceil(population / 3500)));
    const decimals = tracts > 1;
    const zeroMargin = 10 * Math.sqrt(tracts);
    const countMargin = (v: number, lo: number, hi: number): number =>
      v === 0 ? zeroMargin : Math.max(zeroMargin, Math.sqrt(v) * rng.uniform(lo, hi));
    const margin = (m: number): number => (decimals ? round3(m) : Math.round(m));

    const populationMeasures = [population, margin(countMargin(population, 4.5, 9.5))];

    const householdSize = rng.uniform(1.7, 2.8);
    const households = Math.round(population / householdSize);
    const meanIncome = Math.exp(Math.log(55_000) + 0.45 * rng.normal());
    const aggregateIncome = Math.round((households * meanIncome) / 100) * 100;
    const incomeMeasures = [
      aggregateIncome,
      margin(aggregateIncome * rng.uniform(0.07, 0.2) + zeroMargin * 100),
    ];

    healthEstimates.fill(0);
    healthMargins.fill(0);
    const ageJitter = [
      rng.uniform(0.7, 1.3),
      rng.uniform(0.7, 1.3),
      rng.uniform(0.7, 1.3),
      rng.uniform(0.6, 1.4),
    ];
    // Leaf weights are jittered, then scaled so the table covers 94-99.5% of the population (the
    // civilian non-institutionalised share): the health total never exceeds the population.
    let weightSum = 0;
    for (const leaf of leaves) {
      const weight = leaf.share * (ageJitter[leaf.age] as number) * rng.uniform(0.5, 1.5);
      healthEstimates[leaf.label] = weight;
      weightSum += weight;
    }
    const scale = weightSum > 0 ? Math.floor(population * rng.uniform(0.94, 0.995)) / weightSum : 0;
    for (const leaf of leaves) {
      const v = Math.floor((healthEstimates[leaf.label] as number) * scale);
      healthEstimates[leaf.label] = v;
      healthMargins[leaf.label] = countMargin(v, 3.5, 7);
    }
    const healthMeasures = fillTable(healthTree, healthEstimates, healthMargins, decimals);

    selfEstimates.fill(0);
    selfMargins.fill(0);
    const withSelfEmployment = Math.min(households, Math.round(households * rng.uniform(0.03, 0.16)));
    selfEstimates[selfWith] = withSelfEmployment;
    selfEstimates[selfWithout] = households - withSelfEmployment;
    selfMargins[selfWith] = countMargin(withSelfEmployment, 4, 7);
    selfMargins[selfWithout] = countMargin(households - withSelfEmployment, 2.5, 5);
    const selfMeasures = fillTable(selfTree, selfEstimates, selfMargins, decimals);

    return {
      id,
      neighborhood: known.neighborhood ?? nameOf(id),
      measures: {
        population: populationMeasures,
        income: incomeMeasures,
        health_insurance: healthMeasures,
        self_employment: selfMeasures,
      },
    };
  };
}
