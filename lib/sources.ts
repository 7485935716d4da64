// The one schema definition of the four census sources: file names, published headers, column
// prefixes. Row types, normalised column names, the generator's headers and the cleaning all derive
// from here. ACS tables publish each label as an `Estimate; <label>` / `Margin of Error; <label>` pair.

export type SourceName = 'population' | 'income' | 'health_insurance' | 'self_employment';

export interface SourceSchema {
  name: SourceName;
  /** File name in data/sample and in HDFS /data/raw. */
  file: string;
  /** Prefix of normalised column names, e.g. health_insurance_estimate_18_to_34_years. */
  prefix: string;
  /** ACS labels, in published order; each yields an Estimate and a Margin of Error column. */
  labels: readonly string[];
  /** True when the project generates this source (no public file ships with the sample). */
  synthetic: boolean;
}

export const KEY_COLUMNS = ['Neighborhood', 'Id'] as const;

const HEALTH_INSURANCE_LABELS = [
  'Total:',
  'Under 18 years:',
  'Under 18 years: - With one type of health insurance coverage:',
  'Under 18 years: - With one type of health insurance coverage: - With employer-based health insurance only',
  'Under 18 years: - With one type of health insurance coverage: - With direct-purchase health insurance only',
  'Under 18 years: - With one type of health insurance coverage: - With Medicare coverage only',
  'Under 18 years: - With one type of health insurance coverage: - With Medicaid/means-tested public coverage only',
  'Under 18 years: - With one type of health insurance coverage: - With TRICARE/military health coverage only',
  'Under 18 years: - With one type of health insurance coverage: - With VA Health Care only',
  'Under 18 years: - With two or more types of health insurance coverage:',
  'Under 18 years: - With two or more types of health insurance coverage: - With employer-based and direct-purchase coverage',
  'Under 18 years: - With two or more types of health insurance coverage: - With employer-based and Medicare coverage',
  'Under 18 years: - With two or more types of health insurance coverage: - With Medicare and Medicaid/means-tested public coverage',
  'Under 18 years: - With two or more types of health insurance coverage: - Other private only combinations',
  'Under 18 years: - With two or more types of health insurance coverage: - Other public only combinations',
  'Under 18 years: - With two or more types of health insurance coverage: - Other coverage combinations',
  'Under 18 years: - No health insurance coverage',
  '18 to 34 years:',
  '18 to 34 years: - With one type of health insurance coverage:',
  '18 to 34 years: - With one type of health insurance coverage: - With employer-based health insurance only',
  '18 to 34 years: - With one type of health insurance coverage: - With direct-purchase health insurance only',
  '18 to 34 years: - With one type of health insurance coverage: - With Medicare coverage only',
  '18 to 34 years: - With one type of health insurance coverage: - With Medicaid/means-tested public coverage only',
  '18 to 34 years: - With one type of health insurance coverage: - With TRICARE/military health coverage only',
  '18 to 34 years: - With one type of health insurance coverage: - With VA Health Care only',
  '18 to 34 years: - With two or more types of health insurance coverage:',
  '18 to 34 years: - With two or more types of health insurance coverage: - With employer-based and direct-purchase coverage',
  '18 to 34 years: - With two or more types of health insurance coverage: - With employer-based and Medicare coverage',
  '18 to 34 years: - With two or more types of health insurance coverage: - With Medicare and Medicaid/means-tested public coverage',
  '18 to 34 years: - With two or more types of health insurance coverage: - Other private only combinations',
  '18 to 34 years: - With two or more types of health insurance coverage: - Other public only combinations',
  '18 to 34 years: - With two or more types of health insurance coverage: - Other coverage combinations',
  '18 to 34 years: - No health insurance coverage',
  '35 to 64 years:',
  '35 to 64 years: - With one type of health insurance coverage:',
  '35 to 64 years: - With one type of health insurance coverage: - With employer-based health insurance only',
  '35 to 64 years: - With one type of health insurance coverage: - With direct-purchase health insurance only',
  '35 to 64 years: - With one type of health insurance coverage: - With Medicare coverage only',
  '35 to 64 years: - With one type of health insurance coverage: - With Medicaid/means-tested public coverage only',
  '35 to 64 years: - With one type of health insurance coverage: - With TRICARE/military health coverage only',
  '35 to 64 years: - With one type of health insurance coverage: - With VA Health Care only',
  '35 to 64 years: - With two or more types of health insurance coverage:',
  '35 to 64 years: - With two or more types of health insurance coverage: - With employer-based and direct-purchase coverage',
  '35 to 64 years: - With two or more types of health insurance coverage: - With employer-based and Medicare coverage',
  '35 to 64 years: - With two or more types of health insurance coverage: - With direct-purchase and Medicare coverage',
  '35 to 64 years: - With two or more types of health insurance coverage: - With Medicare and Medicaid/means-tested public coverage',
  '35 to 64 years: - With two or more types of health insurance coverage: - Other private only combinations',
  '35 to 64 years: - With two or more types of health insurance coverage: - Other public only combinations',
  '35 to 64 years: - With two or more types of health insurance coverage: - Other coverage combinations',
  '35 to 64 years: - No health insurance coverage',
  '65 years and over:',
  '65 years and over: - With one type of health insurance coverage:',
  '65 years and over: - With one type of health insurance coverage: - With employer-based health insurance only',
  '65 years and over: - With one type of health insurance coverage: - With direct-purchase health insurance only',
  '65 years and over: - With one type of health insurance coverage: - With Medicare coverage only',
  '65 years and over: - With one type of health insurance coverage: - With TRICARE/military health coverage only',
  '65 years and over: - With one type of health insurance coverage: - With VA Health Care only',
  '65 years and over: - With two or more types of health insurance coverage',
  '65 years and over: - With two or more types of health insurance coverage - With employer-based and direct-purchase coverage',
  '65 years and over: - With two or more types of health insurance coverage - With employer-based and Medicare coverage',
  '65 years and over: - With two or more types of health insurance coverage - With direct-purchase and Medicare coverage',
  '65 years and over: - With two or more types of health insurance coverage - With Medicare and Medicaid/means-tested public coverage',
  '65 years and over: - With two or more types of health insurance coverage - Other private only combinations',
  '65 years and over: - With two or more types of health insurance coverage - Other public only combinations',
  '65 years and over: - With two or more types of health insurance coverage - Other coverage combinations',
  '65 years and over: - No health insurance coverage',
] as const;

export const SOURCES: Readonly<Record<SourceName, SourceSchema>> = {
  population: {
    name: 'population',
    file: 'total-population.csv',
    prefix: 'population',
    labels: ['Total'],
    synthetic: false,
  },
  income: {
    name: 'income',
    file: 'aggregate-household-income-in-the-past-12-months-in-2015-inflation-adjusted-dollars.csv',
    prefix: 'income',
    labels: ['Aggregate household income in the past 12 months (in 2015 Inflation-adjusted dollars)'],
    synthetic: false,
  },
  health_insurance: {
    name: 'health_insurance',
    file: 'types-of-health-insurance-coverage-by-age.csv',
    prefix: 'health_insurance',
    labels: HEALTH_INSURANCE_LABELS,
    synthetic: false,
  },
  self_employment: {
    name: 'self_employment',
    file: 'self-employment-income-in-the-past-12-months-for-households.csv',
    prefix: 'self_employment',
    labels: ['Total:', 'Total: - With self-employment income', 'Total: - No self-employment income'],
    synthetic: true,
  },
};

export const SOURCE_NAMES = Object.keys(SOURCES) as SourceName[];

/** The published header of a source, exactly as in the ACS download. */
export function headerOf(source: SourceSchema): string[] {
  return [...KEY_COLUMNS, ...source.labels.flatMap((l) => [`Estimate; ${l}`, `Margin of Error; ${l}`])];
}

/** snake_case identifier of an original header, prefixed by its source: safe as an SQL column name. */
export function columnName(prefix: string, header: string): string {
  const body = header
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${prefix}_${body}`;
}

/** Mapping original header -> normalised column for the measure columns of a source. */
export function columnMapping(source: SourceSchema): { header: string; column: string }[] {
  return headerOf(source)
    .slice(KEY_COLUMNS.length)
    .map((header) => ({ header, column: columnName(source.prefix, header) }));
}
