// Prometheus helpers: one registry per process, an HTTP /metrics for long-running processes,
// and a push to the Pushgateway (grouped by job and date) for batch tasks at the end of a run.
import http from 'node:http';
import { Counter, Gauge, Histogram, Pushgateway, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './log.ts';

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

/** The gauges every task records about its last run. */
export interface BatchRunMetrics {
  registry: Registry;
  success: Gauge;
  lastSuccess: Gauge;
}

/**
 * The success gauges of a task, under one name for all four tasks (told apart by the registry's
 * `task` label), so one alert rule and one dashboard panel see every task.
 */
export function createRunGauges(registry: Registry): Pick<BatchRunMetrics, 'success' | 'lastSuccess'> {
  const registers = [registry];
  return {
    success: new Gauge({
      name: 'pipeline_task_success',
      help: '1 when the last run of the task succeeded, 0 when it failed',
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'pipeline_task_last_success_timestamp_seconds',
      help: 'End time of the last successful run of the task',
      registers,
    }),
  };
}

/**
 * A task's metrics: a registry labelled with the task, the metrics `build` registers in it (`registers`
 * goes into each metric's options) and the run gauges.
 */
export function createTaskMetrics<T extends object>(
  defaultLabels: Record<string, string>,
  build: (registers: Registry[]) => T,
): T & BatchRunMetrics {
  const registry = createRegistry(defaultLabels);
  return { ...build([registry]), registry, ...createRunGauges(registry) };
}

/** Records a successful run (or, for a follower, a successful build or loop): success 1 and the time. */
export function markSucceeded(metrics: Pick<BatchRunMetrics, 'success' | 'lastSuccess'>): void {
  metrics.success.set(1);
  metrics.lastSuccess.set(Date.now() / 1000);
}

/** Where a batch run's metrics go: the Pushgateway of `config`, grouped by job and run date. */
export interface BatchPush {
  job: string;
  config: { date: string; metrics: { pushgatewayUrl: string } };
  /** Told about a failed push (the run's outcome stands). */
  log: Pick<Logger, 'warn'>;
}

/**
 * Runs one batch task, records its outcome (success 1 and the end time, or success 0) and pushes
 * the registry to the Pushgateway in both cases, then returns the result or rethrows the failure.
 */
export async function recordBatchRun<T>(
  metrics: BatchRunMetrics,
  push: BatchPush,
  run: () => T | Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await run();
    markSucceeded(metrics);
  } catch (err) {
    metrics.success.set(0);
    await pushAndReport(metrics.registry, push);
    throw err;
  }
  await pushAndReport(metrics.registry, push);
  return result;
}

/** Pushes the registry to the Pushgateway of `push`; a failed push is a warning, never an error. */
export async function pushAndReport(registry: Registry, push: BatchPush): Promise<void> {
  const { job, config, log } = push;
  const pushError = await pushMetrics(registry, config.metrics.pushgatewayUrl, job, config.date);
  if (pushError) log.warn({ err: pushError.message }, 'metrics push failed');
}
