import { describe, expect, it } from 'vitest';
import { addTallies, fileVerdict, isClean, landing, randomDelays, tally } from './verify.ts';

describe('tally', () => {
  it('is clean when every produced key is stored exactly once', () => {
    const t = tally(['a', 'b', 'c'], ['c', 'a', 'b']);
    expect(t).toEqual({ expected: 3, stored: 3, lost: 0, duplicated: 0, unexpected: 0 });
    expect(isClean(t)).toBe(true);
  });

  it('counts lost, duplicated and unexpected keys separately', () => {
    const t = tally(['a', 'b', 'c'], ['a', 'a', 'a', 'b', 'z']);
    expect(t).toEqual({ expected: 3, stored: 5, lost: 1, duplicated: 2, unexpected: 1 });
    expect(isClean(t)).toBe(false);
  });

  it('adds up', () => {
    const sum = addTallies(tally(['a'], ['a']), tally(['b'], []));
    expect(sum).toMatchObject({ expected: 2, stored: 1, lost: 1 });
  });
});

describe('fileVerdict', () => {
  it('accepts only a whole previous or new version', () => {
    expect(fileVerdict('h1', 'h1', 'h2')).toBe('previous');
    expect(fileVerdict('h2', 'h1', 'h2')).toBe('new');
    expect(fileVerdict('h3', 'h1', 'h2')).toBe('partial');
    expect(fileVerdict(undefined, 'h1', 'h2')).toBe('missing');
  });
});

describe('randomDelays', () => {
  it('stays within bounds', () => {
    const seq = [0, 0.5, 0.999];
    let i = 0;
    expect(randomDelays(3, 100, 200, () => seq[i++]!)).toEqual([100, 150, 200]);
  });
});

describe('landing', () => {
  const midRun = { runningAtStop: true, doneAtStop: 40_000, total: 100_000 };

  it('counts a task that failed after a stop in the middle of its work', () => {
    expect(landing({ ...midRun, exitCode: 1, runningWhenBack: false })).toBe('failed');
  });

  it('counts a task that outlived the outage with work left as having ridden it out', () => {
    expect(landing({ ...midRun, exitCode: 0, runningWhenBack: true })).toBe('rode out');
  });

  it('misses a stop before the first message or after the last one', () => {
    expect(landing({ ...midRun, doneAtStop: 0, exitCode: 1, runningWhenBack: false })).toBe('missed');
    expect(landing({ ...midRun, doneAtStop: 100_000, exitCode: 0, runningWhenBack: true })).toBe('missed');
  });

  it('misses a task that had already exited, or finished before the service was back', () => {
    expect(landing({ ...midRun, runningAtStop: false, exitCode: 0, runningWhenBack: false })).toBe('missed');
    expect(landing({ ...midRun, exitCode: 0, runningWhenBack: false })).toBe('missed');
  });
});
