// Cluster mode of the API (API_WORKERS > 1): this primary process forks the workers, which share
// the listening socket (node:cluster hands them connections) and each run the whole API with its
// own cube db connection, swap check and response cache. The primary serves no request: it
// restarts a worker that dies, answers /metrics aggregation requests, and on SIGTERM/SIGINT stops
// every worker gracefully (each finishes its in-flight requests) before exiting.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../lib/log.ts';
import { serveClusterMetrics } from './cluster-metrics.ts';

/** API_WORKERS: unset or empty -> the number of cores; otherwise a positive integer (1 = no cluster). */
export function parseWorkers(raw: string | undefined, cores: number): number {
  if (raw === undefined || raw.trim() === '') return Math.max(1, cores);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`API_WORKERS must be a positive integer, got "${raw}"`);
  return n;
}

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Each worker's own graceful-shutdown limit; the primary kills stragglers a little later. */
  shutdownTimeoutMs: number;
  /** Delay before replacing a worker that died (no busy loop on a worker that keeps crashing). */
  restartDelayMs?: number;
}

export function runPrimary({
  workers,
  logger,
  shutdownTimeoutMs,
  restartDelayMs = 1000,
}: PrimaryOptions): void {
  serveClusterMetrics();
  const alive = new Set<Worker>();
  const listened = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;

  const fork = () => alive.add(cluster.fork());

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason, workers: alive.size }, 'shutting down the workers');
    for (const worker of alive) worker.process.kill('SIGTERM');
    setTimeout(() => {
      logger.warn('workers did not stop in time; killing them');
      exitCode = 1;
      for (const worker of alive) worker.process.kill('SIGKILL');
    }, shutdownTimeoutMs + 5000).unref();
    if (alive.size === 0) process.exit(exitCode);
  };

  cluster.on('listening', (worker) => {
    listened.add(worker);
    if (listened.size === workers) logger.info({ workers }, `all ${workers} API workers listening`);
  });
  cluster.on('exit', (worker, code, signal) => {
    alive.delete(worker);
    const hadListened = listened.delete(worker);
    if (stopping) {
      // A worker still starting has no handler yet: SIGTERM ends it at once, which is no failure.
      const stoppedCleanly = code === 0 || (!hadListened && signal === 'SIGTERM');
      if (!stoppedCleanly) exitCode = 1;
      if (alive.size === 0) {
        logger.info('stopped');
        process.exit(exitCode);
      }
      return;
    }
    if (!hadListened) {
      // It could not start (port taken, bad configuration): its siblings would fail the same way.
      logger.fatal({ worker: worker.id, code, signal }, 'an API worker exited before listening');
      exitCode = 1;
      stop('worker failed to start');
      return;
    }
    logger.error({ worker: worker.id, code, signal }, 'an API worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelayMs);
  });

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < workers; i++) fork();
}
