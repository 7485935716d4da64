import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { decide, followCubes } from './follow.ts';
import { createCubeFollowMetrics } from './metrics.ts';
import type { CubeRunSummary } from './run.ts';

const log = pino({ level: 'silent' });

const built = (date: string): CubeRunSummary => ({
  date,
  runId: 'r',
  rowsIn: 91,
  unknownIncome: 2,
  rowsOut: {},
  rowsKept: 0,
  bytes: 0,
  seconds: { read: 0, compute: 0, write: 0, total: 0 },
  cubeDbPath: 'x',
  newestEventAt: '2026-01-01T00:00:00.000Z',
  latencySeconds: 1,
});

describe('decide', () => {
  it('builds on new input, skips an unchanged marker, waits for input', () => {
    expect(decide(undefined, 'd', 'm')).toBe('build');
    expect(decide({ date: 'd', marker: 'm' }, 'd', 'm')).toBe('unchanged');
    expect(decide({ date: 'd', marker: 'm' }, 'd', 'm2')).toBe('build');
    expect(decide({ date: 'd', marker: 'm' }, 'e', 'm')).toBe('build'); // the date rolled over
    expect(decide({ date: 'd', marker: 'm' }, 'd', null)).toBe('no_input');
  });
});

describe('followCubes', () => {
  it('rebuilds only when the marker moved, survives a failed build, stops on the signal', async () => {
    // Markers seen at successive checks; a build fails once.
    const markers = [null, 'a', 'a', 'b', 'b', 'c', 'c'];
    let check = 0;
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    const builds: string[] = [];
    const metrics = createCubeFollowMetrics();
    const summary = await followCubes(
      { intervalMs: 0, date: () => '2026-01-01' },
      {
        readMarker: () => {
          const m = check < markers.length ? markers[check]! : 'c';
          check++;
          if (check === markers.length) stop();
          return m;
        },
        build: (date) => {
          const m = markers[check - 1]!;
          if (m === 'b' && !builds.includes('b-failed')) {
            builds.push('b-failed');
            throw new Error('no rows for date');
          }
          builds.push(m);
          return built(date);
        },
        metrics,
        log,
        stopSignal,
      },
    );
    // a built; a unchanged; b failed; b retried and built; c built; c unchanged.
    expect(builds).toEqual(['a', 'b-failed', 'b', 'c']);
    expect(summary).toMatchObject({ checks: 7, builds: 3, unchanged: 2, failures: 1 });
    const checks = await metrics.checks.get();
    const byResult = Object.fromEntries(checks.values.map((v) => [v.labels.result, v.value]));
    expect(byResult).toEqual({ built: 3, unchanged: 2, no_input: 1, failed: 1 });
  });

  it('ends between checks as soon as it is asked to stop', async () => {
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    const t0 = Date.now();
    setTimeout(() => stop(), 50);
    const summary = await followCubes(
      { intervalMs: 60_000, date: () => 'd' },
      { readMarker: () => null, build: built, metrics: createCubeFollowMetrics(), log, stopSignal },
    );
    expect(summary.checks).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('exports the freshness of the last build at scrape time', async () => {
    const metrics = createCubeFollowMetrics();
    const sample = async () =>
      /^cube_data_freshness_seconds\{[^}]*\} (\S+)$/m.exec(
        await metrics.registry.getSingleMetricAsString('cube_data_freshness_seconds'),
      )?.[1];
    expect(await sample()).toBe('Nan'); // prom-client's spelling of NaN
    metrics.newestEvent.set(Date.now() / 1000 - 42);
    const value = Number(await sample());
    expect(value).toBeGreaterThanOrEqual(42);
    expect(value).toBeLessThan(50);
  });
});
