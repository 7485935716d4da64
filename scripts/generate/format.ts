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
    for (let i = 0; i < measures.length; i++) line += `,${measures[i]}`;
    return line + format.eol;
  }
  const rng = new Prng(format.seed, row.id, DIRT_STREAM[source]);
  const f = format.dirty;
  let line = `${rng.next() < f ? dirtyNameCell(row.neighborhood, rng) : name},${row.id}`;
  for (let i = 0; i < measures.length; i++) {
    const clean = String(measures[i]);
    line += `,${rng.next() < f ? dirtyNumberCell(clean, rng) : clean}`;
  }
  return line + (rng.next() < f ? '\r\n' : format.eol);
}
