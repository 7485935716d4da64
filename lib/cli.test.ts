import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { oneLineReason, parseInterval, positiveInt } from './cli.ts';

describe('positiveInt', () => {
  it('accepts integers from 1', () => {
    expect(positiveInt('1')).toBe(1);
    expect(positiveInt('250000')).toBe(250000);
  });
  it.each(['0', '-3', '1.5', 'abc', ''])('rejects %j', (raw) => {
    expect(() => positiveInt(raw)).toThrow(InvalidArgumentError);
  });
});

describe('oneLineReason', () => {
  it('keeps only the first line of an error message', () => {
    expect(oneLineReason(new Error('HDFS NameNode unreachable at http://x:9870\n    at stack'))).toBe(
      'HDFS NameNode unreachable at http://x:9870',
    );
  });
  it('stringifies non-errors', () => {
    expect(oneLineReason('plain')).toBe('plain');
  });
});

describe('parseInterval', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['3', 3000],
    ['0.5s', 500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseInterval(text)).toBe(ms));
  it('rejects nonsense with a clear message', () =>
    expect(() => parseInterval('soon')).toThrow(/--interval/));
});
