import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cleanAcsMargin,
  cleanAcsNumber,
  cleanerForHeader,
  cleanId,
  cleanNeighborhood,
  isRejection,
} from './clean.ts';
import { readCsvRecordsWithHeader } from './csv.ts';
import { headerOf, SOURCE_NAMES, SOURCES } from './sources.ts';

describe('cleanAcsNumber (estimates)', () => {
  it.each(['-', '**', '***', '(X)', 'N/A', 'n/a', 'null', 'NULL', '', '   ', '\t', ' ** ', ' - '])(
    'maps the marker or empty cell %j to null, never 0',
    (raw) => {
      expect(cleanAcsNumber(raw)).toBeNull();
    },
  );

  it.each([
    ['2558', 2558],
    ['2558.0', 2558],
    ['2558.000', 2558],
    ['12.', 12],
    ['0', 0],
    ['007', 7],
    [' 1411 ', 1411],
    ['\t343\r', 343],
    ['1,234', 1234],
    ['12,345,678', 12345678],
    [' 1,234.0 ', 1234],
    ['1e3', 1000],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('reads %j as %d', (raw, expected) => {
    expect(cleanAcsNumber(raw)).toBe(expected);
  });

  it.each([
    ['abc', 'not a number: "abc"'],
    ['12a', 'not a number: "12a"'],
    ['1 234', 'not a number: "1 234"'],
    ['1,23', 'not a number: "1,23"'],
    ['1234,567', 'not a number: "1234,567"'],
    ['1,,234', 'not a number: "1,,234"'],
    ['.5', 'not a number: ".5"'],
    ['--', 'not a number: "--"'],
    ['-5', 'negative count: -5'],
    [' -5 ', 'negative count: -5'],
    ['-5.5', 'negative count: -5.5'],
    ['12.5', 'not an integer: 12.5'],
    ['1,234.5', 'not an integer: 1,234.5'],
    ['1.5e0', 'not an integer: 1.5e0'],
    ['99999999999999999999', 'number too large: 99999999999999999999'],
  ])('rejects %j with reason %j', (raw, reason) => {
    expect(cleanAcsNumber(raw)).toEqual({ reason });
  });

  it('shortens a long garbage value in the reason', () => {
    const result = cleanAcsNumber('x'.repeat(500));
    expect(isRejection(result)).toBe(true);
    expect(isRejection(result) && result.reason.length).toBeLessThan(70);
  });
});

describe('cleanAcsMargin (margins of error)', () => {
  it('keeps the real-valued margins the city aggregates publish', () => {
    expect(cleanAcsMargin('449.773276218')).toBe(449.773276218);
    expect(cleanAcsMargin(' 7,490,207.043 ')).toBe(7490207.043);
    expect(cleanAcsMargin('196')).toBe(196);
    expect(cleanAcsMargin('10.0')).toBe(10);
  });

  it('maps markers to null and rejects negatives and garbage', () => {
    expect(cleanAcsMargin('**')).toBeNull();
    expect(cleanAcsMargin('')).toBeNull();
    expect(cleanAcsMargin('-3.5')).toEqual({ reason: 'negative margin: -3.5' });
    expect(cleanAcsMargin('x')).toEqual({ reason: 'not a number: "x"' });
  });

  it('is chosen for Margin of Error columns by cleanerForHeader', () => {
    expect(cleanerForHeader('Margin of Error; Total')).toBe(cleanAcsMargin);
    expect(cleanerForHeader('Estimate; Total')).toBe(cleanAcsNumber);
  });
});

describe('cleanId', () => {
  it('reads positive integer keys', () => {
    expect(cleanId('1')).toBe(1);
    expect(cleanId(' 91 ')).toBe(91);
    expect(cleanId('12.0')).toBe(12);
  });

  it.each([
    ['', 'missing Id'],
    ['  ', 'missing Id'],
    ['-', 'missing Id'],
    ['N/A', 'missing Id'],
    ['x', 'Id not an integer: "x"'],
    ['1.5', 'Id not an integer: "1.5"'],
    ['-3', 'Id not an integer: "-3"'],
    ['1,000', 'Id not an integer: "1,000"'],
    ['0', 'Id not positive: 0'],
  ])('rejects %j with reason %j', (raw, reason) => {
    expect(cleanId(raw)).toEqual({ reason });
  });
});

describe('cleanNeighborhood', () => {
  it('trims and collapses whitespace', () => {
    expect(cleanNeighborhood('Allegheny Center')).toBe('Allegheny Center');
    expect(cleanNeighborhood('  Allegheny   Center\t')).toBe('Allegheny Center');
    expect(cleanNeighborhood('Spring\tHill-City  View')).toBe('Spring Hill-City View');
  });

  it('rejects an empty name', () => {
    expect(cleanNeighborhood('')).toEqual({ reason: 'missing Neighborhood' });
    expect(cleanNeighborhood(' \t ')).toEqual({ reason: 'missing Neighborhood' });
  });
});

describe('the real sample files', () => {
  it('clean without a single rejection; only the ACS markers become null', async () => {
    const nulls: string[] = [];
    const rejections: string[] = [];
    for (const name of SOURCE_NAMES) {
      const source = SOURCES[name];
      const header = headerOf(source);
      const cleaners = header.map((h) => cleanerForHeader(h));
      const file = new URL(`../data/sample/${source.file}`, import.meta.url);
      let rows = 0;
      for await (const record of readCsvRecordsWithHeader(createReadStream(file), header, source.file)) {
        rows++;
        if (record.error !== undefined) rejections.push(`${source.file}:${record.line}: ${record.error}`);
        const id = cleanId(record.fields[1] ?? '');
        const hood = cleanNeighborhood(record.fields[0] ?? '');
        if (isRejection(id) || isRejection(hood)) rejections.push(`${source.file}:${record.line}: key`);
        for (let c = 2; c < header.length; c++) {
          const value = (cleaners[c] as (raw: string) => unknown)(record.fields[c] ?? '');
          if (value === null) nulls.push(`${name} ${String(id)} ${record.fields[c]}`);
          else if (isRejection(value))
            rejections.push(`${source.file}:${record.line}:${c + 1}: ${value.reason}`);
        }
      }
      expect(rows).toBe(91);
    }
    expect(rejections).toEqual([]);
    expect(nulls).toEqual(['income 22 -', 'income 22 **', 'income 72 -', 'income 72 **']);
  });
});

describe('cleanAcsMargin precision', () => {
  it('gives exactly the double Number() parses, for many random decimals', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const text = `${next() % 100_000_000}.${String(next() % 1_000_000_000).padStart(9, '0')}`;
      if (cleanAcsMargin(text) !== Number(text)) mismatches.push(text);
    }
    expect(mismatches).toEqual([]);
    expect(cleanAcsMargin('123456789012.123456789')).toBe(Number('123456789012.123456789'));
  });
});
