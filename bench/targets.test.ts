import { describe, expect, it } from 'vitest';
import { SPEC_TARGETS, evaluate, throughputRatio, timeRatio } from './targets.ts';

describe('ratios', () => {
  it('compares throughput as ours/anchor and time as ours/anchor', () => {
    expect(throughputRatio({ rowsPerSecond: 50, seconds: 1, anchorRowsPerSecond: 200 })).toBe(0.25);
    expect(timeRatio({ rowsPerSecond: 1, seconds: 3, anchorSeconds: 2 })).toBe(1.5);
    expect(timeRatio({ rowsPerSecond: 1, seconds: 3 })).toBeUndefined();
  });
});

describe('evaluate', () => {
  it('consumer: an absolute floor of 100k msg/s', () => {
    expect(evaluate(SPEC_TARGETS.consumer, { rowsPerSecond: 100_000, seconds: 50 }).pass).toBe(true);
    const v = evaluate(SPEC_TARGETS.consumer, { rowsPerSecond: 99_999, seconds: 50 });
    expect(v.pass).toBe(false);
    expect(v.detail).toContain('99,999/s');
  });

  it('producer: at least half of the perf-test throughput', () => {
    const ok = evaluate(SPEC_TARGETS.producer, { rowsPerSecond: 50, seconds: 1, anchorRowsPerSecond: 100 });
    expect(ok).toEqual({ pass: true, detail: '50% of anchor (>= 50% of anchor)' });
    expect(
      evaluate(SPEC_TARGETS.producer, { rowsPerSecond: 49, seconds: 1, anchorRowsPerSecond: 100 }).pass,
    ).toBe(false);
  });

  it('transform and cube: at most twice the DuckDB time', () => {
    expect(evaluate(SPEC_TARGETS.transform, { rowsPerSecond: 1, seconds: 4, anchorSeconds: 2 }).pass).toBe(
      true,
    );
    const slow = evaluate(SPEC_TARGETS.computeCube, { rowsPerSecond: 1, seconds: 4.1, anchorSeconds: 2 });
    expect(slow.pass).toBe(false);
    expect(slow.detail).toBe('2.05x anchor time (<= 2x anchor time)');
  });

  it('fails, never passes, a ratio target whose anchor did not run', () => {
    expect(evaluate(SPEC_TARGETS.transform, { rowsPerSecond: 1, seconds: 1 })).toEqual({
      pass: false,
      detail: 'no anchor measured',
    });
  });

  it('api: both the rate floor and the p99 ceiling must hold', () => {
    expect(evaluate(SPEC_TARGETS.api, { rowsPerSecond: 16_000, seconds: 10, p99Ms: 9 }).pass).toBe(true);
    expect(evaluate(SPEC_TARGETS.api, { rowsPerSecond: 16_000, seconds: 10, p99Ms: 11 }).pass).toBe(false);
    expect(evaluate(SPEC_TARGETS.api, { rowsPerSecond: 14_000, seconds: 10, p99Ms: 2 }).pass).toBe(false);
  });
});
