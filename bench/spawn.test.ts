import { describe, expect, it } from 'vitest';
import { parentPidOf, parseGnuTimeRss, treeOf } from './spawn.ts';

describe('process tree helpers', () => {
  it('reads the parent pid even when the command name has spaces and parentheses', () => {
    expect(parentPidOf('1234 (node (worker) x) S 42 1234 1234 0 -1')).toBe(42);
  });

  it('walks a pid and its descendants only', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [20, 1],
    ]);
    expect(treeOf(10, parents).sort()).toEqual([10, 11, 12]);
  });

  it('reads the RSS that GNU time writes, after a status line', () => {
    expect(parseGnuTimeRss('Command exited with non-zero status 1\n81360\n')).toBe(81360);
    expect(parseGnuTimeRss('')).toBeUndefined();
  });
});
