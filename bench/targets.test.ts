import { describe, expect, it } from 'vitest';
import {
  MEMORY_BOUNDS_MB,
  SPEC_TARGETS,
  evaluate,
  evaluateMemory,
  throughputRatio,
  timeRatio,
} from './targets.ts';

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

  it('producer: at least 80% of the perf-test throughput', () => {
    const ok = evaluate(SPEC_TARGETS.producer, { rowsPerSecond: 80, seconds: 1, anchorRowsPerSecond: 100 });
    expect(ok).toEqual({ pass: true, detail: '80% of anchor (>= 80% of anchor)' });
    expect(
      evaluate(SPEC_TARGETS.producer, { rowsPerSecond: 79, seconds: 1, anchorRowsPerSecond: 100 }).pass,
    ).toBe(false);
  });

  it('transform: at or under the DuckDB time; cube: at most 1.5x', () => {
    expect(evaluate(SPEC_TARGETS.transform, { rowsPerSecond: 1, seconds: 2, anchorSeconds: 2 }).pass).toBe(
      true,
    );
    expect(evaluate(SPEC_TARGETS.transform, { rowsPerSecond: 1, seconds: 2.1, anchorSeconds: 2 }).pass).toBe(
      false,
    );
    expect(evaluate(SPEC_TARGETS.computeCube, { rowsPerSecond: 1, seconds: 3, anchorSeconds: 2 }).pass).toBe(
      true,
    );
    const slow = evaluate(SPEC_TARGETS.computeCube, { rowsPerSecond: 1, seconds: 3.1, anchorSeconds: 2 });
    expect(slow.pass).toBe(false);
    expect(slow.detail).toBe('1.55x anchor time (<= 1.5x anchor time)');
  });

  it('fails, never passes, a ratio target whose anchor did not run', () => {
    expect(evaluate(SPEC_TARGETS.transform, { rowsPerSecond: 1, seconds: 1 })).toEqual({
      pass: false,
      detail: 'no anchor measured',
    });
  });

  it('api: the rate floor, the p99 ceiling and 90% of the bare replay server must all hold', () => {
    const m = { rowsPerSecond: 16_000, seconds: 10, p99Ms: 9, anchorRowsPerSecond: 17_000 };
    expect(evaluate(SPEC_TARGETS.api, m)).toEqual({
      pass: true,
      detail: '16,000 req/s, p99 9 ms, 94% of anchor (>= 15,000 req/s, p99 <= 10 ms, >= 90% of anchor req/s)',
    });
    expect(evaluate(SPEC_TARGETS.api, { ...m, p99Ms: 11 }).pass).toBe(false);
    expect(evaluate(SPEC_TARGETS.api, { ...m, rowsPerSecond: 14_000 }).pass).toBe(false);
    expect(evaluate(SPEC_TARGETS.api, { ...m, anchorRowsPerSecond: 18_000 }).pass).toBe(false);
    expect(evaluate(SPEC_TARGETS.api, { ...m, anchorRowsPerSecond: undefined })).toEqual({
      pass: false,
      detail: 'no anchor measured',
    });
  });
});

describe('evaluateMemory', () => {
  it('compares the peak RSS in MB with the stage bound', () => {
    expect(evaluateMemory(600 * 1024, MEMORY_BOUNDS_MB.consumer)).toEqual({
      pass: true,
      detail: '600 MB (<= 600 MB)',
    });
    expect(evaluateMemory(301 * 1024, MEMORY_BOUNDS_MB.producer)).toEqual({
      pass: false,
      detail: '301 MB (<= 300 MB)',
    });
    expect(evaluateMemory(undefined, 500)).toEqual({ pass: false, detail: 'not measured (<= 500 MB)' });
    expect(evaluateMemory(1, undefined)).toBeUndefined();
  });
});
