// Request count and latency by route template and status, for the Grafana "API rate and latency"
// panels. Label children are cached per (method, route, status): prom-client hashes the label set
// on every unlabelled observe, which shows at 15k requests/s.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from '../lib/metrics.ts';

type Child = { inc: () => void; observe: (v: number) => void };

export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  readonly cacheLookups: Counter<'result'>;
  readonly reloads: Counter;
  private readonly children = new Map<string, Child>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency (first byte in to last byte out), by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.cacheLookups = new Counter({
      name: 'api_response_cache_lookups_total',
      help: 'Response cache lookups of cube endpoints, by result (hit or miss)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.reloads = new Counter({
      name: 'api_cube_db_reloads_total',
      help: 'Times the API opened a new cube_analytics.db (start and every swap)',
      registers: [registry],
    });
  }

  /** Records the request when its response has been sent. `route()` is read at that time. */
  track(req: IncomingMessage, res: ServerResponse, route: () => string): void {
    const start = performance.now();
    res.once('finish', () => this.observe(req.method ?? 'GET', route(), res.statusCode, start));
  }

  /** Records one request that started at `start` (performance.now()) and ends now. */
  observe(method: string, route: string, status: number, start: number): void {
    const key = `${method}\0${route}\0${status}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { method, route, status: String(status) };
      const counter = this.requests.labels(labels);
      const histogram = this.duration.labels(labels);
      child = { inc: () => counter.inc(), observe: (v) => histogram.observe(v) };
      this.children.set(key, child);
    }
    child.inc();
    child.observe((performance.now() - start) / 1000);
  }
}
