import { describe, expect, it } from 'vitest';
import { formatStatus, parseMetrics, producedFromLogLine } from './status.ts';
import { restartDelayMs } from './supervisor.ts';

describe('live status', () => {
  it('sums a metric over its label sets and skips comments and NaN', () => {
    const m = parseMetrics(
      [
        '# HELP consumer_lag x',
        'consumer_lag{partition="0",task="consumer"} 3',
        'consumer_lag{partition="1",task="consumer"} 4',
        'processed_messages_total{task="consumer"} 910',
        'cube_data_freshness_seconds Nan',
      ].join('\n'),
    );
    expect(m.get('consumer_lag')).toBe(7);
    expect(m.get('processed_messages_total')).toBe(910);
    expect(m.has('cube_data_freshness_seconds')).toBe(false);
  });

  it('turns two snapshots into rates and ages', () => {
    const before = { at: 0, produced: 0, consumed: 0 };
    const now = {
      at: 5_000,
      produced: 455,
      consumed: 450,
      lag: 5,
      lastBuildAt: 3_000,
      lastBuildSeconds: 0.25,
      servedNewestEventAt: 1_000,
      apiReady: true,
    };
    expect(formatStatus(now, before)).toBe(
      'produced 91/s · consumed 90/s · lag 5 · cubes built 2s ago (0.25 s) · API data age 4s',
    );
    expect(formatStatus({ at: 1 }, undefined)).toBe(
      'produced - · consumed - · lag - · cubes not built yet · data age -',
    );
    expect(formatStatus({ at: 1, apiReady: false }, undefined)).toContain('API not ready');
  });

  it("reads the producer's acknowledged total from its log", () => {
    expect(producedFromLogLine('{"level":30,"loop":3,"produced":273,"ms":40,"msg":"loop sent"}')).toBe(273);
    expect(producedFromLogLine('{"level":30,"msg":"progress","sent":5}')).toBeUndefined();
    expect(producedFromLogLine('not json "loop sent"')).toBeUndefined();
  });
});

describe('restartDelayMs', () => {
  it('backs off from 1 s to at most 30 s', () => {
    expect([1, 2, 3, 5, 6, 10].map(restartDelayMs)).toEqual([1000, 2000, 4000, 16_000, 30_000, 30_000]);
  });
});
