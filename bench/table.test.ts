import { describe, expect, it } from 'vitest';
import { formatNumber, formatRss, formatSeconds, markdownTable } from './table.ts';

describe('markdownTable', () => {
  it('pads columns and right-aligns numeric ones', () => {
    const text = markdownTable(
      [{ header: 'stage' }, { header: 'rows', align: 'right' }],
      [
        ['producer', '1,000,000'],
        ['api', '5'],
      ],
    );
    expect(text.split('\n')).toEqual([
      '| stage    |      rows |',
      '|----------|----------:|',
      '| producer | 1,000,000 |',
      '| api      |         5 |',
    ]);
  });

  it('escapes pipes so a cell never splits a row', () => {
    expect(markdownTable([{ header: 'a' }], [['x|y']])).toContain('x\\|y');
  });
});

describe('number formatting', () => {
  it('groups thousands and keeps decimals of small fractions', () => {
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(undefined)).toBe('-');
    expect(formatSeconds(3.14159)).toBe('3.14');
    expect(formatSeconds(31.4159)).toBe('31.4');
    expect(formatRss(204800)).toBe('200 MB');
  });
});
