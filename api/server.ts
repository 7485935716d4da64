// `npm run api`: serves the API on API_HOST:API_PORT (default 0.0.0.0:8000) over CUBE_DB (default
// var/cube_analytics.db). API_WORKERS processes serve it (default: one per core; 1 = this process
// alone; more: node:cluster, see primary.ts). SIGTERM/SIGINT stop accepting connections, let
// in-flight requests finish (at most SHUTDOWN_TIMEOUT_MS), close the cube db and exit 0.
import cluster from 'node:cluster';
import os from 'node:os';
import { loadConfig } from '../lib/config.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { createApp } from './app.ts';
import { clusterMetricsReader } from './cluster-metrics.ts';
import { parseWorkers, runPrimary } from './primary.ts';

const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000);

function serve(logger: Logger): void {
  const config = loadConfig();
  const registry = createRegistry({ service: 'api' });
  const api = createApp({
    cubeDbPath: config.sqlite.cubeDbPath,
    corsOrigin: config.api.corsOrigin,
    logger,
    registry,
    readMetrics: cluster.isWorker ? clusterMetricsReader(registry) : undefined,
  });
  const server = api.createServer();

  const readiness = api.store.readiness();
  if (!readiness.ready)
    logger.warn({ cubeDb: config.sqlite.cubeDbPath }, `not ready yet: ${readiness.reason}`);

  server.on('error', (err) => {
    logger.fatal({ err }, `cannot listen on ${config.api.host}:${config.api.port}`);
    process.exit(1);
  });
  server.listen(config.api.port, config.api.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.api.port;
    logger.info(
      { port, host: config.api.host, cubeDb: config.sqlite.cubeDbPath },
      `API listening on http://${config.api.host}:${port} (docs at /docs)`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; closing their connections');
      server.closeAllConnections();
    }, shutdownTimeoutMs).unref();
    server.close(() => {
      clearTimeout(force);
      api.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const base = createLogger('api');
try {
  if (cluster.isWorker) {
    serve(base.child({ worker: cluster.worker!.id }));
  } else {
    const workers = parseWorkers(process.env.API_WORKERS, os.availableParallelism());
    if (workers > 1) runPrimary({ workers, logger: base, shutdownTimeoutMs });
    else serve(base);
  }
} catch (err) {
  base.fatal({ err }, (err as Error).message);
  process.exit(1);
}
