// One generated row as one CSV line of a source, clean or with a fraction of dirt. String
// concatenation in a plain loop: this is the generator's hot path (134 cells a row).
import { formatCsvField } from '../../lib/csv.ts';
import type { SourceName } from '../../lib/sources.ts';
import { dirtyNameCell, dirtyNumberCell } from './dirt.ts';
import { Prng } from './prng.ts';
import type { GeneratedRow } from './rows.ts';

export interface LineFormat {
  /** Fraction of cells (and line endings) made dirty, 0..1. */
  dirty: number;
  /** Line terminator of clean lines; a dirty line ending is CRLF. */
  eol: '\n' | '\r\n';
  /** Seed hash; the dirt of a row is drawn from its own stream so clean values never change. */
  seed: number;
}

/** `.5`, `.773`, ...: the fraction part of thousandths, trailing zeros dropped (as String() would). */
export const FRACTIONS: readonly string[] = Array.from({ length: 1000 }, (_, i) =>
  i === 0 ? '' : `.${String(i).padStart(3, '0')}`.replace(/0+$/, ''),
);

/**
 * A measure as CSV text. Generated measures have at most three decimals (rows.ts rounds margins),
 * so a table lookup replaces the general double-to-string conversion, the generator's former hot
 * spot; the text is the same as String(value).
 */
export function formatMeasure(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const thousandths = Math.round(value * 1000);
  const whole = Math.floor(thousandths / 1000);
  return String(whole) + (FRACTIONS[thousandths - whole * 1000] as string);
}

const DIRT_STREAM: Record<SourceName, number> = {
  population: 1,
  income: 2,
  health_insurance: 3,
  self_employment: 4,
};

export function formatSourceLine(source: SourceName, row: GeneratedRow, format: LineFormat): string {
  const measures = row.measures[source];
  const name = formatCsvField(row.neighborhood);
  if (format.dirty <= 0) {
    let line = `${name},${row.id}`;
    for (let i = 0; i < measures.length; i++) line += `,${formatMeasure(measures[i] as number)}`;
    return line + format.eol;
  }
  const rng = new Prng(format.seed, row.id, DIRT_STREAM[source]);
  const f = format.dirty;
  let line = `${rng.next() < f ? dirtyNameCell(row.neighborhood, rng) : name},${row.id}`;
  for (let i = 0; i < measures.length; i++) {
    const clean = formatMeasure(measures[i] as number);
    line += `,${rng.next() < f ? dirtyNumberCell(clean, rng) : clean}`;
  }
  return line + (rng.next() < f ? '\r\n' : format.eol);
}
