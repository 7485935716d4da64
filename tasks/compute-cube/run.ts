// One compute-cube run: the date's latest rows -> the cubes, computed by SQLite in a new
// cube_analytics.db (read-input.ts, cube-sql.ts), swapped in atomically (cube-db.ts).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/log.ts';
import { writeCubeDbWith } from './cube-db.ts';
import type { CubeMetrics } from './metrics.ts';
import { INPUT_VIEW, fillFromInput, type FillTimings } from './read-input.ts';

export interface CubeRunOptions {
  date: string;
  dbPath: string;
  cubeDbPath: string;
}

export interface CubeRunSummary {
  date: string;
  runId: string;
  rowsIn: number;
  unknownIncome: number;
  rowsOut: Record<string, number>;
  rowsKept: number;
  bytes: number;
  seconds: { read: number; compute: number; write: number; total: number };
  cubeDbPath: string;
  /** The newest producedAt among the input rows; null when the input does not carry it. */
  newestEventAt: string | null;
  /** From newestEventAt to the swap of the new cubes (end-to-end latency of this build). */
  latencySeconds: number | null;
}

export function runComputeCube(
  options: CubeRunOptions,
  deps: { log: Logger; metrics: CubeMetrics },
): CubeRunSummary {
  const { log, metrics } = deps;
  const t0 = performance.now();
  const runId = randomUUID();
  const timings: FillTimings = { readMs: 0, computeMs: 0 };
  const fill = fillFromInput(options.dbPath, options.date, timings);
  const written = writeCubeDbWith(
    options.cubeDbPath,
    (db) => {
      const filled = fill(db);
      log.info({ rows: filled.input?.rowsIn, date: options.date }, `read ${INPUT_VIEW}`);
      return { ...filled, input: { ...filled.input, durationMs: Math.round(performance.now() - t0) } };
    },
    {
      runId,
      date: options.date,
      builtAt: new Date().toISOString(),
      rowsIn: 0,
      neighborhoods: 0,
      unknownIncome: 0,
      durationMs: 0,
      source: `${options.dbPath}#${INPUT_VIEW}`,
    },
  );
  const t1 = performance.now();
  const { rowsOut, input } = written.filled;
  const rowsIn = input?.rowsIn ?? 0;
  const unknownIncome = input?.unknownIncome ?? 0;
  const newestEventAt = input?.newestEventAt ?? null;
  const newestMs = newestEventAt === null ? Number.NaN : Date.parse(newestEventAt);
  const latencySeconds = Number.isNaN(newestMs) ? null : Math.max(0, (Date.now() - newestMs) / 1000);
  if (latencySeconds !== null) {
    metrics.newestEvent.set(newestMs / 1000);
    metrics.latency.set(latencySeconds);
  }
  const seconds = {
    read: timings.readMs / 1000,
    /** Brackets, roll-ups and the cube rows' inserts: SQLite computes while it inserts. */
    compute: timings.computeMs / 1000,
    write: (t1 - t0 - timings.readMs - timings.computeMs) / 1000,
    total: (t1 - t0) / 1000,
  };
  metrics.rowsIn.inc(rowsIn);
  for (const [cube, n] of Object.entries(rowsOut)) metrics.rowsOut.inc({ cube }, n);
  metrics.unknownIncome.set(unknownIncome);
  for (const [phase, s] of Object.entries(seconds)) metrics.duration.set({ phase }, s);
  return {
    date: options.date,
    runId,
    rowsIn,
    unknownIncome,
    rowsOut,
    rowsKept: written.rowsKept,
    bytes: written.bytes,
    seconds,
    cubeDbPath: options.cubeDbPath,
    newestEventAt,
    latencySeconds,
  };
}
