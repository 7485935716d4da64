import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cleanerForHeader, cleanNeighborhood, isRejection } from '../../lib/clean.ts';
import { readCsvRecords } from '../../lib/csv.ts';
import { headerOf, SOURCE_NAMES, SOURCES, type SourceName } from '../../lib/sources.ts';
import { renderBatch } from './batch.ts';
import { withThousandsSeparators } from './dirt.ts';
import { formatMeasure, formatSourceLine, type LineFormat } from './format.ts';
import { buildLabelTree } from './label-tree.ts';
import { DISTINCT_BASE_NAMES, neighborhoodNamer } from './names.ts';
import { hashSeed, Prng } from './prng.ts';
import { createRowGenerator } from './rows.ts';

function render(
  seed: string,
  rows: number,
  dirty = 0,
  sources: readonly SourceName[] = SOURCE_NAMES,
): string[] {
  const format: LineFormat = { seed: hashSeed(seed), dirty, eol: '\n' };
  const chunks = renderBatch(createRowGenerator(format.seed), format, sources, 0, rows);
  return chunks.map((c) => Buffer.from(c).toString('utf8'));
}

async function parse(text: string): Promise<{ line: number; fields: string[] }[]> {
  const out: { line: number; fields: string[] }[] = [];
  for await (const r of readCsvRecords(Readable.from([text]))) {
    if (r.error !== undefined) throw new Error(`line ${r.line}: ${r.error}`);
    out.push(r);
  }
  return out;
}

describe('prng', () => {
  it('is deterministic per (seed, id, stream) and spreads over [0, 1)', () => {
    const a = new Prng(hashSeed('x'), 7);
    const b = new Prng(hashSeed('x'), 7);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(new Prng(hashSeed('x'), 8).next()).not.toBe(seqA[0]);
    expect(new Prng(hashSeed('x'), 7, 1).next()).not.toBe(seqA[0]);
    const rng = new Prng(1);
    const draws = Array.from({ length: 10_000 }, () => rng.next());
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(draws.reduce((a, x) => a + x, 0) / draws.length).toBeCloseTo(0.5, 1);
  });
});

describe('neighborhood names', () => {
  it('are unique for every Id, beyond the base combinations too', () => {
    const nameOf = neighborhoodNamer(hashSeed('1'));
    const count = DISTINCT_BASE_NAMES * 2 + 10;
    const names = new Set(Array.from({ length: count }, (_, i) => nameOf(i + 1)));
    expect(names.size).toBe(count);
    for (const name of [nameOf(1), nameOf(count)])
      expect(name).toMatch(/^[A-Z][A-Za-z]+( [A-Z0-9][A-Za-z0-9]*)*$/);
  });
});

describe('label tree', () => {
  it('finds the parents of the B27010 labels, including the colon-less 65+ subtotal', () => {
    const labels = SOURCES.health_insurance.labels;
    const tree = buildLabelTree(labels);
    const parentOf = (label: string): string | undefined =>
      labels[tree.parent[labels.indexOf(label)] as number];
    expect(parentOf('Under 18 years:')).toBe('Total:');
    expect(parentOf('Under 18 years: - No health insurance coverage')).toBe('Under 18 years:');
    expect(
      parentOf(
        '65 years and over: - With two or more types of health insurance coverage - Other coverage combinations',
      ),
    ).toBe('65 years and over: - With two or more types of health insurance coverage');
    expect(tree.parent[0]).toBe(-1);
  });
});

describe('generated files', () => {
  it('carry the published headers, identical to the real sample files', () => {
    const texts = render('1', 1);
    SOURCE_NAMES.forEach((name, i) => {
      expect(texts[i]?.split('\n').length).toBe(2); // N = 1: one line (and the trailing newline)
      const source = SOURCES[name];
      if (!source.synthetic) {
        const real = readFileSync(new URL(`../../data/sample/${source.file}`, import.meta.url), 'utf8');
        expect(real.split(/\r?\n/)[0]).toBe(headerOf(source).join(','));
      }
    });
    // ACS B19053's published header, as quoted in the sample data's README (no real file ships).
    expect(headerOf(SOURCES.self_employment).join(',')).toBe(
      'Neighborhood,Id,Estimate; Total:,Margin of Error; Total:,' +
        'Estimate; Total: - With self-employment income,Margin of Error; Total: - With self-employment income,' +
        'Estimate; Total: - No self-employment income,Margin of Error; Total: - No self-employment income',
    );
  });

  it('write clean lines as bytes exactly as formatSourceLine renders them', () => {
    const format: LineFormat = { seed: hashSeed('bytes'), dirty: 0, eol: '\r\n' };
    const generateRow = createRowGenerator(format.seed);
    const bytes = renderBatch(generateRow, format, SOURCE_NAMES, 0, 500);
    SOURCE_NAMES.forEach((name, s) => {
      let expected = '';
      for (let i = 1; i <= 500; i++) expected += formatSourceLine(name, generateRow(i), format);
      expect(Buffer.from(bytes[s] as Uint8Array).toString('utf8')).toBe(expected);
    });
    expect(formatMeasure(449.773)).toBe('449.773');
    expect(formatMeasure(14.1)).toBe('14.1');
    expect(formatMeasure(2558)).toBe('2558');
  });

  it('are deterministic for a seed and differ between seeds', () => {
    expect(render('42', 300)).toEqual(render('42', 300));
    const other = render('43', 300);
    render('42', 300).forEach((text, i) => expect(text).not.toBe(other[i]));
  });

  it('have consistent subtotals: every parent is the sum of its parts', async () => {
    const [population = '', health = '', self = ''] = render('7', 2000, 0, [
      'population',
      'health_insurance',
      'self_employment',
    ]);
    const popById = new Map((await parse(population)).map((r) => [r.fields[1], Number(r.fields[2])]));
    for (const [text, source] of [
      [health, SOURCES.health_insurance],
      [self, SOURCES.self_employment],
    ] as const) {
      const tree = buildLabelTree(source.labels);
      // Plain comparisons collected into one list: 2,000 rows x 134 cells of expect() is slow.
      const problems: string[] = [];
      for (const { fields } of await parse(text)) {
        const estimates = source.labels.map((_, i) => Number(fields[2 + 2 * i]));
        const sums = new Array<number>(source.labels.length).fill(0);
        source.labels.forEach((_, i) => {
          const p = tree.parent[i] as number;
          if (p !== -1) sums[p] = (sums[p] as number) + (estimates[i] as number);
        });
        source.labels.forEach((label, i) => {
          if (!tree.isLeaf[i] && estimates[i] !== sums[i]) problems.push(`Id ${fields[1]} ${label}`);
          const margin = Number(fields[3 + 2 * i]);
          if (!(margin >= 10)) problems.push(`Id ${fields[1]} margin of ${label}: ${margin}`);
        });
        if (!estimates.every((e) => Number.isInteger(e) && e >= 0))
          problems.push(`Id ${fields[1]}: bad estimate`);
        if (
          source.name === 'health_insurance' &&
          !((estimates[0] as number) <= (popById.get(fields[1]) ?? -1))
        ) {
          problems.push(`Id ${fields[1]}: insured universe above population`);
        }
      }
      expect(problems).toEqual([]);
    }
  });

  it(
    'honours the dirt fraction, and every dirty cell cleans to null or to the clean value',
    { timeout: 60_000 },
    async () => {
      const rows = 20_000;
      const fraction = 0.1;
      const sources = ['population', 'income', 'self_employment'] as const;
      const clean = render('dirt', rows, 0, sources);
      const dirty = render('dirt', rows, fraction, sources);
      let cells = 0;
      let changed = 0;
      let crlf = 0;
      for (let s = 0; s < sources.length; s++) {
        const header = headerOf(SOURCES[sources[s] as SourceName]);
        const cleaners = header.map((h) => cleanerForHeader(h));
        crlf += (dirty[s]?.match(/\r\n/g) ?? []).length;
        const cleanRecords = await parse(clean[s] ?? '');
        const dirtyRecords = await parse(dirty[s] ?? '');
        expect(dirtyRecords.length).toBe(rows);
        const problems: string[] = [];
        dirtyRecords.forEach((record, r) => {
          const expected = (cleanRecords[r] as { fields: string[] }).fields;
          if (record.fields.length !== header.length) problems.push(`line ${record.line}: field count`);
          if (record.fields[1] !== expected[1]) problems.push(`line ${record.line}: Id dirtied`);
          if (cleanNeighborhood(record.fields[0] ?? '') !== expected[0])
            problems.push(`line ${record.line}: name`);
          for (let c = 0; c < header.length; c++) {
            if (c === 1) continue; // Ids are never dirtied: a bad key loses a row, that is not "dirt"
            cells++;
            const got = record.fields[c] as string;
            if (got === expected[c]) continue;
            changed++;
            if (c === 0) continue;
            const value = (cleaners[c] as (raw: string) => unknown)(got);
            if (isRejection(value) || (value !== null && value !== Number(expected[c]))) {
              problems.push(`line ${record.line} column ${c + 1}: ${JSON.stringify(got)} vs ${expected[c]}`);
            }
          }
        });
        expect(problems).toEqual([]);
      }
      expect(changed / cells).toBeGreaterThan(fraction * 0.9);
      expect(changed / cells).toBeLessThan(fraction * 1.1);
      expect(crlf / (rows * sources.length)).toBeCloseTo(fraction, 1);
      expect(clean.join('')).not.toContain('\r');
    },
  );

  it('writes thousands separators the way exports do', () => {
    expect(withThousandsSeparators('1234567')).toBe('1,234,567');
    expect(withThousandsSeparators('123')).toBe('123');
    expect(withThousandsSeparators('7490207.043')).toBe('7,490,207.043');
  });
});
