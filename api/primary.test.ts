import { describe, expect, it } from 'vitest';
import { parseWorkers } from './primary.ts';

describe('parseWorkers (API_WORKERS)', () => {
  it('defaults to the number of cores, at least one', () => {
    expect(parseWorkers(undefined, 4)).toBe(4);
    expect(parseWorkers('', 2)).toBe(2);
    expect(parseWorkers(' ', 2)).toBe(2);
    expect(parseWorkers(undefined, 0)).toBe(1);
  });

  it('takes a positive integer as is (1 = a single process)', () => {
    expect(parseWorkers('1', 8)).toBe(1);
    expect(parseWorkers('3', 2)).toBe(3);
  });

  it('rejects anything else with the setting named', () => {
    for (const raw of ['0', '-1', '1.5', 'two', '2x'])
      expect(() => parseWorkers(raw, 2)).toThrow(/API_WORKERS must be a positive integer/);
  });
});
