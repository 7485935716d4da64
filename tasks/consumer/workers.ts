// --workers N: N consumer processes in one consumer group. kafkajs decodes and the worker parses on
// one thread, so one process is CPU-bound; processes split the partitions and SQLite (WAL, one
// immediate transaction per batch, busy_timeout) serialises their commits.
//
// The date's joined rows are loaded by a child of the parent while the workers start, connect and
// join the group (a 250k-row file takes several seconds, and a group of three needs a rebalance or
// two): a worker holds its first batch until the parent tells it the rows are in SQLite.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleEsm, nodeFlagsWithoutTsx } from '../../lib/esm-bundle.ts';
import { fetchEndOffsets, type Kafka } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { removeLeftovers } from '../../lib/task.ts';
import { emptySummary, type ConsumerSummary } from './run.ts';

export const WORKER_ENV = {
  /** Set in a worker: its index (0-based). */
  index: 'CONSUMER_WORKER_INDEX',
  /** Bounded mode: the end offsets fixed by the parent, JSON [[partition, {low, high}], ...]. */
  endOffsets: 'CONSUMER_END_OFFSETS',
  /** Set in the parent's joined loader child: load the date's joined rows, then exit. */
  loadJoined: 'CONSUMER_LOAD_JOINED',
} as const;

export interface WorkersOptions {
  workers: number;
  follow: boolean;
  kafka: Kafka;
  topic: string;
  /** Follow mode: worker i serves /metrics on metricsPort + i. */
  metricsPort: number;
  stopSignal: Promise<void>;
  log: Logger;
  /** Node flags added to each worker's (e.g. its V8 heap cap, see the consumer's --max-memory). */
  nodeArgs?: readonly string[];
}

/** Adds up worker summaries (pure). */
export function combineSummaries(parts: readonly ConsumerSummary[], seconds: number): ConsumerSummary {
  const first = parts[0];
  const total = emptySummary(first?.mode ?? 'bounded', first?.topic ?? '', first?.groupId ?? '', seconds);
  for (const p of parts) {
    total.stored += p.stored;
    total.duplicates += p.duplicates;
    total.deadLetters += p.deadLetters;
    total.staleBatches += p.staleBatches;
    total.joinedFallback += p.joinedFallback;
    for (const [reason, n] of Object.entries(p.rejectsByReason)) {
      total.rejectsByReason[reason] = (total.rejectsByReason[reason] ?? 0) + n;
    }
    for (const [partition, offset] of Object.entries(p.offsets)) {
      total.offsets[partition] = Math.max(total.offsets[partition] ?? 0, offset);
    }
  }
  total.messagesPerSecond = Math.round((total.stored + total.deadLetters) / seconds);
  return total;
}

/** The parent's IPC message to its workers: the joined loader child has finished. */
const JOINED_LOADED = 'joined-loaded';

/** In a worker: resolves when the parent says the date's joined rows are loaded; rejects if it goes away. */
export function joinedLoadedByParent(): Promise<void> {
  return new Promise((resolve, reject) => {
    process.on('message', (m) => {
      if (m === JOINED_LOADED) resolve();
    });
    process.once('disconnect', () => reject(new Error('the --workers parent went away')));
  });
}

/** A child's exit code once it exits; 1 when a signal ended it. */
function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/**
 * Runs the bundled CLI (same flags) as the joined loader child; settles with its failure, if any.
 * In a child: the parse's garbage (a 250k-row file is ~140 MB of CSV) leaves with it instead of
 * staying in the parent's heap.
 */
function forkJoinedLoader(script: string): Promise<Error | undefined> {
  const child = fork(script, process.argv.slice(2), {
    execArgv: nodeFlagsWithoutTsx(process.execArgv),
    env: { ...process.env, [WORKER_ENV.loadJoined]: '1', PUSHGATEWAY_URL: '', METRICS_PORT: '0' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return exitCode(child).then((code) =>
    code === 0 ? undefined : new Error(`the joined-attributes loader failed (exit ${code})`),
  );
}

/** Temporary directories of the workers' bundle: consumer-workers-<parent pid>-XXXXXX. */
const BUNDLE_DIR_PREFIX = 'consumer-workers-';

/**
 * This CLI as one plain-JavaScript file for the workers, in a temporary directory (removed by
 * `dispose`; those of killed parents at the next start): a worker started through tsx carries its
 * loader and an esbuild process, ~45 MB each.
 */
async function workerScript(): Promise<{ file: string; dispose: () => void }> {
  const cli = process.argv[1]!;
  const code = await bundleEsm(cli, `${pathToFileURL(cli).href}.bundle.js`);
  removeLeftovers(os.tmpdir(), BUNDLE_DIR_PREFIX);
  const dir = mkdtempSync(path.join(os.tmpdir(), `${BUNDLE_DIR_PREFIX}${process.pid}-`));
  const file = path.join(dir, 'consumer.mjs');
  writeFileSync(file, code);
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function runWorkers(opts: WorkersOptions): Promise<ConsumerSummary> {
  const script = await workerScript();
  try {
    return await forkWorkers(opts, script.file, forkJoinedLoader(script.file));
  } finally {
    script.dispose();
  }
}

async function forkWorkers(
  opts: WorkersOptions,
  script: string,
  joinedLoaded: Promise<Error | undefined>,
): Promise<ConsumerSummary> {
  const started = process.hrtime.bigint();
  // Bounded mode: the end offsets are fixed once here, so that every worker stops at the same place.
  const endOffsets = opts.follow
    ? undefined
    : JSON.stringify([...(await fetchEndOffsets(opts.kafka, opts.topic))]);
  const args = process.argv.slice(2);
  const summaries: ConsumerSummary[] = [];
  const processes = Array.from({ length: opts.workers }, (_, i) =>
    fork(script, args, {
      execArgv: [...nodeFlagsWithoutTsx(process.execArgv), ...(opts.nodeArgs ?? [])],
      env: {
        ...process.env,
        [WORKER_ENV.index]: String(i),
        ...(endOffsets ? { [WORKER_ENV.endOffsets]: endOffsets } : {}),
        // The parent pushes the combined metrics; in follow mode each worker serves its own port.
        PUSHGATEWAY_URL: '',
        METRICS_PORT: String(opts.follow && opts.metricsPort > 0 ? opts.metricsPort + i : 0),
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  // Forwarded so each worker finishes its batch in flight and leaves the group cleanly.
  void opts.stopSignal.then(() => {
    for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
  });
  for (const child of processes) child.on('message', (m) => summaries.push(m as ConsumerSummary));
  // A worker that found nothing to consume may have exited already: only connected ones are told.
  const loaderError = joinedLoaded.then((err) => {
    for (const child of processes) {
      if (err && child.exitCode === null) child.kill('SIGTERM');
      if (!err && child.connected) child.send(JOINED_LOADED);
    }
    return err;
  });
  const codes = await Promise.all(processes.map(exitCode));
  const err = await loaderError;
  if (err) throw err;
  const failed = codes.filter((code) => code !== 0);
  if (failed.length > 0)
    throw new Error(
      `${failed.length} of ${opts.workers} consumer workers failed (exit ${failed.join(', ')})`,
    );
  return combineSummaries(summaries, Number(process.hrtime.bigint() - started) / 1e9);
}
