import { describe, expect, it } from 'vitest';
import { median, medianIndex, perSecond } from './stats.ts';

describe('median', () => {
  it('takes the middle of an odd count, in any order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10])).toBe(10);
  });
  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(/empty/);
  });
});

describe('medianIndex', () => {
  it('points at the run holding the median', () => {
    expect(medianIndex([5, 9, 7])).toBe(2);
    expect(medianIndex([4, 1, 3, 2])).toBe(3); // lower middle value 2
  });
});

describe('perSecond', () => {
  it('divides, and guards a zero duration', () => {
    expect(perSecond(1000, 2)).toBe(500);
    expect(perSecond(1000, 0)).toBe(0);
  });
});
