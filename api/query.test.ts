import { describe, expect, it } from 'vitest';
import { acceptsGzip, ifNoneMatchHits } from './fast-path.ts';
import { HttpError } from './http-error.ts';
import { checkPath, parseQuery } from './query.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof HttpError ? `${err.status} ${err.code}` : String(err);
  }
};

describe('parseQuery', () => {
  it('decodes percent-encoding and + as space, skips empty pairs', () => {
    expect([...parseQuery('neighborhood=St.+Clair&sort=-total&&limit=5&x=%C3%A9')]).toEqual([
      ['neighborhood', 'St. Clair'],
      ['sort', '-total'],
      ['limit', '5'],
      ['x', 'é'],
    ]);
    expect(parseQuery('flag').get('flag')).toBe('');
  });

  it.each([
    ['a=1&a=2', '400 repeated_parameter'],
    ['a=%', '400 malformed_encoding'],
    ['a=%C3', '400 malformed_encoding'],
    ['a=%ED%A0%80', '400 malformed_encoding'], // an encoded UTF-16 surrogate is not UTF-8
    ['=1', '400 invalid_parameter'],
    ['a=%07', '400 invalid_character'],
    ['a=\u00ff', '400 malformed_encoding'],
  ])('%s -> %s', (query, expected) => {
    expect(codeOf(() => parseQuery(query))).toBe(expected);
  });
});

describe('checkPath', () => {
  it('accepts API paths and rejects traversal, encoded separators and bad escapes', () => {
    expect(codeOf(() => checkPath('/api/health-insurance/18-34'))).toBeUndefined();
    expect(codeOf(() => checkPath('/api/cubes/%2e%2e'))).toBe('400 invalid_path');
    expect(codeOf(() => checkPath('/api/cubes/a%2Fb'))).toBe('400 invalid_path');
    expect(codeOf(() => checkPath('/api/cubes/a%5Cb'))).toBe('400 invalid_path');
    expect(codeOf(() => checkPath('/api/./income'))).toBe('400 invalid_path');
    expect(codeOf(() => checkPath('/api/%zz'))).toBe('400 malformed_path');
  });
});

describe('content negotiation helpers', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.0, identity', false],
    ['*', true],
    ['br', false],
  ])('Accept-Encoding %s -> gzip %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(ifNoneMatchHits('"a", "b"', '"b"')).toBe(true);
    expect(ifNoneMatchHits('W/"b"', '"b"')).toBe(true);
    expect(ifNoneMatchHits('*', '"b"')).toBe(true);
    expect(ifNoneMatchHits('"a"', '"b"')).toBe(false);
    expect(ifNoneMatchHits(undefined, '"b"')).toBe(false);
  });
});
