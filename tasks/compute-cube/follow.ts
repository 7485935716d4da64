// `compute-cube --follow`: the cube generator of the real-time design. Every --interval it reads the
// consumer's commit marker (change-marker.ts) and rebuilds the date's cubes only when the marker moved
// since the last build; each build is the batch run (build beside, swap atomically). A failed build
// is logged and retried at the next check; a stop request (SIGTERM/SIGINT) ends the loop between
// checks, or after the build in progress.
import type { Logger } from '../../lib/log.ts';
import type { CubeFollowMetrics } from './metrics.ts';
import type { CubeRunSummary } from './run.ts';

export interface FollowOptions {
  /** Time between the starts of two checks. */
  intervalMs: number;
  /** The date to follow, asked at every check (today's date rolls over at midnight UTC). */
  date: () => string;
}

export interface FollowDeps {
  /** The input's change marker for a date; null when there is no input yet. */
  readMarker: (date: string) => string | null;
  /** One build and swap (throws on failure). */
  build: (date: string) => CubeRunSummary;
  metrics: CubeFollowMetrics;
  log: Logger;
  stopSignal: Promise<void>;
}

export interface FollowSummary {
  mode: 'follow';
  checks: number;
  builds: number;
  unchanged: number;
  failures: number;
  lastBuild: CubeRunSummary | null;
  stoppedBySignal: true;
}

/** What the last successful build was made from. */
export interface BuiltFrom {
  date: string;
  marker: string;
}

export type CheckDecision = 'build' | 'unchanged' | 'no_input';

/** Pure: build when there is input and it is not what the last build was made from. */
export function decide(last: BuiltFrom | undefined, date: string, marker: string | null): CheckDecision {
  if (marker === null) return 'no_input';
  if (last !== undefined && last.date === date && last.marker === marker) return 'unchanged';
  return 'build';
}

/** Shortest pause between checks, so that --interval 0 polls instead of spinning. */
export const MIN_PAUSE_MS = 200;

export async function followCubes(opts: FollowOptions, deps: FollowDeps): Promise<FollowSummary> {
  const { metrics, log } = deps;
  let stopping = false;
  void deps.stopSignal.then(() => (stopping = true));
  const summary: FollowSummary = {
    mode: 'follow',
    checks: 0,
    builds: 0,
    unchanged: 0,
    failures: 0,
    lastBuild: null,
    stoppedBySignal: true,
  };
  let last: BuiltFrom | undefined;
  let lastFailure = '';
  while (!stopping) {
    const started = Date.now();
    const date = opts.date();
    summary.checks++;
    try {
      // Read before the build: a commit landing during the build moves the marker again, so it
      // triggers the next build instead of being lost.
      const marker = deps.readMarker(date);
      const decision = decide(last, date, marker);
      if (decision === 'build') {
        const built = deps.build(date);
        last = { date, marker: marker! };
        summary.builds++;
        summary.lastBuild = built;
        lastFailure = '';
        metrics.checks.inc({ result: 'built' });
        log.info(
          {
            date,
            rowsIn: built.rowsIn,
            seconds: Number(built.seconds.total.toFixed(3)),
            newestEventAt: built.newestEventAt,
            latencySeconds: built.latencySeconds,
          },
          'cubes rebuilt',
        );
      } else {
        if (decision === 'unchanged') summary.unchanged++;
        metrics.checks.inc({ result: decision });
      }
    } catch (err) {
      summary.failures++;
      metrics.checks.inc({ result: 'failed' });
      metrics.success.set(0);
      const message = err instanceof Error ? err.message : String(err);
      // The same failure (no rows yet, say) is logged once, not at every check.
      if (message !== lastFailure)
        log.warn({ date, err: message }, 'cube build failed; retrying at the next check');
      lastFailure = message;
    }
    if (stopping) break;
    const pause = Math.max(MIN_PAUSE_MS, opts.intervalMs - (Date.now() - started));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, pause))), deps.stopSignal]);
    clearTimeout(timer);
  }
  return summary;
}
