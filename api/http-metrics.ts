// Request count and latency by route template and status, for the Grafana "API rate and latency"
// panels and the alerts. A cache hit costs tens of µs, so recording one must cost far less than
// prom-client's labelled observe (label validation and hashing on every call, ~3-8 µs measured):
// each (method, route, status) series is a plain object reached through nested Maps with no
// allocation, and the series are turned into Prometheus samples only when /metrics is read.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, type Registry } from '../lib/metrics.ts';

/** Upper bounds in seconds of the latency histogram. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface RequestSeries {
  method: string;
  route: string;
  status: number;
  count: number;
  /** Sum of the latencies in seconds. */
  sum: number;
  /** Requests per bucket (not cumulative); the last slot is above the highest bound. */
  buckets: number[];
}

/** A sample as prom-client's registries (and its cluster aggregator) read them from a metric. */
export interface MetricSample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export function newSeries(method: string, route: string, status: number): RequestSeries {
  return {
    method,
    route,
    status,
    count: 0,
    sum: 0,
    buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
  };
}

export function recordLatency(series: RequestSeries, seconds: number): void {
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
  series.buckets[i]!++;
  series.count++;
  series.sum += seconds;
}

const labelsOf = (s: RequestSeries) => ({ method: s.method, route: s.route, status: String(s.status) });

/** The samples of a Prometheus counter of requests per series. */
export function requestCountSamples(series: Iterable<RequestSeries>): MetricSample[] {
  return [...series].map((s) => ({ labels: labelsOf(s), value: s.count }));
}

/** The samples of a Prometheus histogram: cumulative `_bucket`s with `le`, `+Inf`, `_sum`, `_count`. */
export function latencyHistogramSamples(name: string, series: Iterable<RequestSeries>): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const s of series) {
    const labels = labelsOf(s);
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += s.buckets[i]!;
      samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    });
    samples.push(
      { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count },
      { metricName: `${name}_sum`, labels, value: s.sum },
      { metricName: `${name}_count`, labels, value: s.count },
    );
  }
  return samples;
}

/**
 * A metric computed when read. prom-client's registries only call `get()` (its own cluster
 * aggregator registers such plain objects); its type declarations name only its own classes.
 */
function registerComputed(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  samples: () => MetricSample[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: samples() }),
  };
  registry.registerMetric(metric as unknown as Counter);
}

export class HttpMetrics {
  /** route -> method -> status -> series: lookups by the strings at hand, no key built per request. */
  private readonly series = new Map<string, Map<string, Map<number, RequestSeries>>>();
  private readonly lookups = { hit: 0, miss: 0 };
  readonly reloads: Counter;

  constructor(registry: Registry) {
    const all = () =>
      [...this.series.values()].flatMap((m) => [...m.values()].flatMap((s) => [...s.values()]));
    registerComputed(
      registry,
      'http_requests_total',
      'HTTP requests served, by method, route template and status',
      'counter',
      () => requestCountSamples(all()),
    );
    registerComputed(
      registry,
      'http_request_duration_seconds',
      'HTTP request latency (first byte in to last byte out), by method, route template and status',
      'histogram',
      () => latencyHistogramSamples('http_request_duration_seconds', all()),
    );
    const lookups = this.lookups;
    new Counter({
      name: 'api_response_cache_lookups_total',
      help: 'Response cache lookups of cube endpoints, by result (hit or miss)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, lookups.hit);
        this.inc({ result: 'miss' }, lookups.miss);
      },
    });
    this.reloads = new Counter({
      name: 'api_cube_db_reloads_total',
      help: 'Times the API opened a new cube_analytics.db (start and every swap; in cluster mode, the most of any worker)',
      registers: [registry],
      // Every worker opens each new file: a sum would count one swap once per worker.
      aggregator: 'max',
    });
  }

  cacheLookup(result: 'hit' | 'miss'): void {
    this.lookups[result]++;
  }

  /** Records the request when its response has been sent. `route()` is read at that time. */
  track(req: IncomingMessage, res: ServerResponse, route: () => string): void {
    const start = performance.now();
    res.once('finish', () => this.observe(req.method ?? 'GET', route(), res.statusCode, start));
  }

  /** Records one request that started at `start` (performance.now()) and ends now. */
  observe(method: string, route: string, status: number, start: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = newSeries(method, route, status)));
    recordLatency(series, (performance.now() - start) / 1000);
  }
}
