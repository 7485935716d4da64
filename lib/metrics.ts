// Prometheus helpers: one registry per process, an HTTP /metrics for long-running processes,
// and a push to the Pushgateway (grouped by job and date) for batch tasks at the end of a run.
import http from 'node:http';
import { Counter, Gauge, Histogram, Pushgateway, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export function createRegistry(defaultLabels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Serves GET /metrics on the port (0 picks a free one); resolves to the bound port. */
export async function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry
      .metrics()
      .then((body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body))
      .catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return server;
}

/**
 * Replaces the metrics of (job, date) on the Pushgateway. A push failure is reported, not thrown:
 * monitoring being down must not fail a run whose data is already committed.
 */
export async function pushMetrics(
  registry: Registry,
  pushgatewayUrl: string,
  job: string,
  date: string,
): Promise<Error | undefined> {
  if (!pushgatewayUrl) return undefined;
  const gateway = new Pushgateway(pushgatewayUrl, { timeout: 5000 }, registry);
  try {
    await gateway.pushAdd({ jobName: job, groupings: { date } });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
