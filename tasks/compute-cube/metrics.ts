// compute-cube metrics, pushed to the Pushgateway (job compute_cube, grouped by date) at the end of
// every run, failed runs included (compute_cube_success 0).
import { Counter, Gauge, createRegistry, type Registry } from '../../lib/metrics.ts';

export interface CubeMetrics {
  registry: Registry;
  rowsIn: Counter;
  rowsOut: Counter<'cube'>;
  unknownIncome: Gauge;
  duration: Gauge<'phase'>;
  success: Gauge;
  lastSuccess: Gauge;
}

export function createCubeMetrics(): CubeMetrics {
  const registry = createRegistry({ task: 'compute_cube' });
  const registers = [registry];
  return {
    registry,
    rowsIn: new Counter({
      name: 'compute_cube_rows_in_total',
      help: 'Latest rows read from donnees_formatees_latest',
      registers,
    }),
    rowsOut: new Counter({
      name: 'compute_cube_rows_out_total',
      help: 'Cube rows written for the date',
      labelNames: ['cube'],
      registers,
    }),
    unknownIncome: new Gauge({
      name: 'compute_cube_unknown_income_neighborhoods',
      help: 'Neighborhoods whose per-capita income is unknown (no bracket)',
      registers,
    }),
    duration: new Gauge({
      name: 'compute_cube_duration_seconds',
      help: 'Duration of the run by phase (read, compute, write, total)',
      labelNames: ['phase'],
      registers,
    }),
    success: new Gauge({
      name: 'compute_cube_success',
      help: '1 when the last run succeeded, 0 when it failed',
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'compute_cube_last_success_timestamp_seconds',
      help: 'End time of the last successful run',
      registers,
    }),
  };
}
