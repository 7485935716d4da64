// One compute-cube run: read the date's latest rows, build the cubes, swap cube_analytics.db.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/log.ts';
import { writeCubeDb } from './cube-db.ts';
import { emitCubes, perCapitaIncome } from './cube-math.ts';
import type { CubeMetrics } from './metrics.ts';
import { INPUT_VIEW, readFacts } from './read-input.ts';

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
  const { facts, newestEventAt } = readFacts(options.dbPath, options.date);
  const t1 = performance.now();
  log.info({ rows: facts.length, date: options.date }, `read ${INPUT_VIEW}`);
  const unknownIncome = facts.filter((f) => perCapitaIncome(f) === null).length;
  // Cube rows are computed while they are inserted (one pass, no array of 1.5M row objects).
  const rowsOut: Record<string, number> = { health_insurance: 0, income: 0, self_employment: 0 };
  let computeMs = 0;
  const t2 = performance.now();
  const runId = randomUUID();
  const written = writeCubeDb(
    options.cubeDbPath,
    (sink) => {
      const c0 = performance.now();
      emitCubes(options.date, facts, (cube, row) => {
        rowsOut[cube] = (rowsOut[cube] ?? 0) + 1;
        sink(cube, row);
      });
      computeMs = performance.now() - c0;
    },
    {
      runId,
      date: options.date,
      builtAt: new Date().toISOString(),
      rowsIn: facts.length,
      neighborhoods: facts.length,
      unknownIncome,
      durationMs: Math.round(t2 - t0),
      source: `${options.dbPath}#${INPUT_VIEW}`,
      newestEventAt,
    },
  );
  const t3 = performance.now();
  const newestMs = newestEventAt === null ? Number.NaN : Date.parse(newestEventAt);
  const latencySeconds = Number.isNaN(newestMs) ? null : Math.max(0, (Date.now() - newestMs) / 1000);
  if (latencySeconds !== null) {
    metrics.newestEvent.set(newestMs / 1000);
    metrics.latency.set(latencySeconds);
  }
  const seconds = {
    read: (t1 - t0) / 1000,
    /** Cube maths and SQLite inserts interleave: compute is the emit pass (inserts included). */
    compute: computeMs / 1000,
    write: (t3 - t2 - computeMs) / 1000,
    total: (t3 - t0) / 1000,
  };
  metrics.rowsIn.inc(facts.length);
  for (const [cube, n] of Object.entries(rowsOut)) metrics.rowsOut.inc({ cube }, n);
  metrics.unknownIncome.set(unknownIncome);
  for (const [phase, s] of Object.entries(seconds)) metrics.duration.set({ phase }, s);
  return {
    date: options.date,
    runId,
    rowsIn: facts.length,
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
