import { describe, expect, it } from 'vitest';
import { metricValue, summarizeLive } from './live.ts';
import { evaluate, SPEC_TARGETS } from './targets.ts';

describe('live bench stage', () => {
  it('reads a metric, optionally one label set', () => {
    const text = [
      'consumer_lag{partition="0"} 5',
      'consumer_lag{partition="1"} 7',
      'compute_cube_duration_seconds{phase="read",task="compute_cube"} 1.5',
      'compute_cube_duration_seconds{phase="total",task="compute_cube"} 9.25',
      'cube_data_freshness_seconds{task="compute_cube"} Nan',
    ].join('\n');
    expect(metricValue(text, 'consumer_lag')).toBe(12);
    expect(metricValue(text, 'compute_cube_duration_seconds', 'phase="total"')).toBe(9.25);
    expect(metricValue(text, 'cube_data_freshness_seconds')).toBeUndefined();
  });

  it('summarises the window: rates, lag, freshness, rebuild times', () => {
    const s = summarizeLive([
      { at: 0, produced: 1000, consumed: 900, lag: 100, freshness: 20, builds: 1, buildSeconds: 8 },
      {
        at: 5000,
        produced: 51_000,
        consumed: 40_900,
        lag: 10_100,
        freshness: 25,
        builds: 1,
        buildSeconds: 8,
      },
      {
        at: 10_000,
        produced: 101_000,
        consumed: 90_900,
        lag: 10_100,
        freshness: 12,
        builds: 2,
        buildSeconds: 9,
      },
    ]);
    expect(s).toMatchObject({
      seconds: 10,
      producedPerSecond: 10_000,
      consumedPerSecond: 9_000,
      lagMax: 10_100,
      lagLast: 10_100,
      freshnessMedian: 20,
      freshnessWorst: 25,
      builds: 1,
      buildSecondsMedian: 9,
    });
  });

  it('takes rates over the samples that have the value', () => {
    const s = summarizeLive([
      { at: 0, produced: 0, consumed: 0, builds: 1 },
      { at: 10_000, produced: 100_000, consumed: 50_000, builds: 2 },
      { at: 20_000, produced: 200_000 },
    ]);
    expect(s).toMatchObject({
      producedPerSecond: 10_000,
      consumed: 50_000,
      consumedPerSecond: 5_000,
      builds: 1,
    });
  });

  it('passes when the worst freshness stays within 60 s', () => {
    expect(
      evaluate(SPEC_TARGETS.live, { rowsPerSecond: 1, seconds: 1, worstFreshnessSeconds: 41.2 }),
    ).toEqual({
      pass: true,
      detail: 'worst 41.2 s (freshness <= 60 s)',
    });
    expect(evaluate(SPEC_TARGETS.live, { rowsPerSecond: 1, seconds: 1 }).pass).toBe(false);
  });
});
