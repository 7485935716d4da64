import { AggregatorRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HttpMetrics, LATENCY_BUCKETS, newSeries, recordLatency } from './http-metrics.ts';

/** Records `seconds` of latency as a request that started that long ago. */
const observeAgo = (m: HttpMetrics, method: string, route: string, status: number, seconds: number) =>
  m.observe(method, route, status, performance.now() - seconds * 1000);

describe('recordLatency', () => {
  it('counts a latency in the first bucket whose bound it does not exceed (le is inclusive)', () => {
    const s = newSeries('GET', '/x', 200);
    recordLatency(s, 0.0005);
    recordLatency(s, 0.0006);
    recordLatency(s, 99);
    expect(s.buckets[0]).toBe(1);
    expect(s.buckets[1]).toBe(1);
    expect(s.buckets[LATENCY_BUCKETS.length]).toBe(1);
    expect(s.count).toBe(3);
    expect(s.sum).toBeCloseTo(99.0011, 6);
  });
});

/** The value of a sample in Prometheus text, found by name and exact label set (any order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).sort().join(';');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)]
      .map((l) => [l[1], l[2]])
      .sort()
      .join(';');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

describe('HttpMetrics', () => {
  const income = { method: 'GET', route: '/api/income', status: '200' };

  it('exports requests and a cumulative latency histogram per method, route and status', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'api' });
    const m = new HttpMetrics(registry);
    observeAgo(m, 'GET', '/api/income', 200, 0.002);
    observeAgo(m, 'GET', '/api/income', 200, 0.2);
    observeAgo(m, 'GET', '/api/income', 304, 0.002);
    observeAgo(m, 'HEAD', '/healthz', 200, 0.002);
    m.cacheLookup('hit');
    m.cacheLookup('hit');
    m.cacheLookup('miss');
    const text = await registry.metrics();
    const service = 'api';

    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sample(text, 'http_requests_total', { ...income, service })).toBe(2);
    expect(sample(text, 'http_requests_total', { ...income, status: '304', service })).toBe(1);
    expect(
      sample(text, 'http_requests_total', { method: 'HEAD', route: '/healthz', status: '200', service }),
    ).toBe(1);
    const bucket = (le: string) =>
      sample(text, 'http_request_duration_seconds_bucket', { ...income, le, service });
    expect(bucket('0.001')).toBe(0);
    expect(bucket('0.0025')).toBe(1);
    expect(bucket('0.1')).toBe(1);
    expect(bucket('0.25')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_count', { ...income, service })).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_sum', { ...income, service })).toBeGreaterThan(0.2);
    expect(sample(text, 'api_response_cache_lookups_total', { result: 'hit', service })).toBe(2);
    expect(sample(text, 'api_response_cache_lookups_total', { result: 'miss', service })).toBe(1);
  });

  it('reads the same counts again on a second scrape (counters are totals, not deltas)', async () => {
    const registry = new Registry();
    const m = new HttpMetrics(registry);
    m.cacheLookup('hit');
    await registry.metrics();
    m.cacheLookup('hit');
    expect(sample(await registry.metrics(), 'api_response_cache_lookups_total', { result: 'hit' })).toBe(2);
  });

  it("sums over processes with prom-client's cluster aggregator", async () => {
    const workers = [new Registry(), new Registry()];
    const metrics = workers.map((r) => new HttpMetrics(r));
    observeAgo(metrics[0]!, 'GET', '/api/income', 200, 0.002);
    observeAgo(metrics[1]!, 'GET', '/api/income', 200, 0.002);
    observeAgo(metrics[1]!, 'GET', '/api/income', 200, 0.002);
    metrics[0]!.cacheLookup('hit');
    metrics[1]!.cacheLookup('hit');
    const aggregated = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((r) => r.getMetricsAsJSON())),
    );
    const text = await aggregated.metrics();
    expect(sample(text, 'http_requests_total', income)).toBe(3);
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...income, le: '0.0025' })).toBe(3);
    expect(sample(text, 'api_response_cache_lookups_total', { result: 'hit' })).toBe(2);
  });
});
