// compute-cube metrics, pushed to the Pushgateway (job compute_cube, grouped by date) at the end of
// every run, failed runs included (pipeline_task_success 0). `--follow` serves the same ones on its own
// /metrics, plus its checks and the cubes' freshness measured at scrape time.
import { Counter, Gauge, createTaskMetrics, type Registry } from '../../lib/metrics.ts';

export interface CubeMetrics {
  registry: Registry;
  rowsIn: Counter;
  rowsOut: Counter<'cube'>;
  unknownIncome: Gauge;
  duration: Gauge<'phase'>;
  success: Gauge;
  lastSuccess: Gauge;
  /** The newest producedAt among the rows of the last build (seconds since the epoch). */
  newestEvent: Gauge;
  /** Last build: from the newest producedAt of its input to the swap of the new cubes. */
  latency: Gauge;
}

export interface CubeFollowMetrics extends CubeMetrics {
  checks: Counter<'result'>;
  /** Age of the newest event reflected in the served cubes, computed at scrape time. */
  freshness: Gauge;
}

export function createCubeMetrics(): CubeMetrics {
  return createTaskMetrics({ task: 'compute_cube' }, (registers) => ({
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
    newestEvent: new Gauge({
      name: 'cube_data_newest_event_timestamp_seconds',
      help: 'producedAt of the newest event reflected in the cubes of the last build (time() minus it is their freshness)',
      registers,
    }),
    latency: new Gauge({
      name: 'cube_end_to_end_latency_seconds',
      help: 'Last build: seconds from the newest producedAt of its input to the swap of the new cubes',
      registers,
    }),
  }));
}

/** The batch metrics plus what only a long-lived follower can tell (served on its /metrics). */
export function createCubeFollowMetrics(): CubeFollowMetrics {
  const metrics = createCubeMetrics();
  const registers = [metrics.registry];
  const checks = new Counter({
    name: 'compute_cube_follow_checks_total',
    help: 'Checks of the input by compute-cube --follow, by result (built, unchanged, no_input, failed)',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['built', 'unchanged', 'no_input', 'failed']) checks.inc({ result }, 0);
  const newestEvent = metrics.newestEvent;
  const freshness = new Gauge({
    name: 'cube_data_freshness_seconds',
    help: 'Age of the newest event reflected in the served cubes (now minus its producedAt)',
    registers,
    async collect() {
      const newest = (await newestEvent.get()).values[0]?.value;
      // NaN until the first build: unknown, not fresh.
      this.set(newest !== undefined && newest > 0 ? Math.max(0, Date.now() / 1000 - newest) : Number.NaN);
    },
  });
  return { ...metrics, checks, freshness };
}
