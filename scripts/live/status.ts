// The status line of `npm run live` (pure): what the followers' /metrics, the producer's log and the
// cube database said at two moments, turned into rates and ages.

/** Samples of a Prometheus text exposition, summed over label sets: `name` -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    if (Number.isNaN(value)) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}

/** One look at the live pipeline. Undefined: that part did not answer. */
export interface LiveSnapshot {
  /** Milliseconds since the epoch. */
  at: number;
  /** Messages the producer acknowledged so far (its `loop sent` log lines). */
  produced?: number;
  /** processed_messages_total + processing_errors_total of the consumer follower. */
  consumed?: number;
  /** Sum of consumer_lag over partitions. */
  lag?: number;
  /** End of the last successful cube build (ms since the epoch). */
  lastBuildAt?: number;
  lastBuildSeconds?: number;
  /** The newest producedAt reflected in the cube database the API serves (ms since the epoch). */
  servedNewestEventAt?: number;
  /** The API answered /readyz. */
  apiReady?: boolean;
}

const rate = (now: number | undefined, before: number | undefined, seconds: number): string =>
  now === undefined || before === undefined || seconds <= 0
    ? '-'
    : `${Math.max(0, Math.round((now - before) / seconds)).toLocaleString('en-US')}/s`;

const age = (at: number | undefined, now: number): string =>
  at === undefined ? '-' : `${Math.max(0, Math.round((now - at) / 1000))}s`;

/** `produced 9/s · consumed 9/s · lag 0 · cubes built 12s ago (0.2 s) · API data age 14s` */
export function formatStatus(now: LiveSnapshot, before: LiveSnapshot | undefined): string {
  const seconds = before ? (now.at - before.at) / 1000 : 0;
  const parts = [
    `produced ${rate(now.produced, before?.produced, seconds)}`,
    `consumed ${rate(now.consumed, before?.consumed, seconds)}`,
    `lag ${now.lag === undefined ? '-' : now.lag.toLocaleString('en-US')}`,
    now.lastBuildAt === undefined
      ? 'cubes not built yet'
      : `cubes built ${age(now.lastBuildAt, now.at)} ago${now.lastBuildSeconds === undefined ? '' : ` (${now.lastBuildSeconds.toFixed(now.lastBuildSeconds < 1 ? 2 : 1)} s)`}`,
    now.apiReady === undefined
      ? `data age ${age(now.servedNewestEventAt, now.at)}`
      : now.apiReady
        ? `API data age ${age(now.servedNewestEventAt, now.at)}`
        : 'API not ready',
  ];
  return parts.join(' · ');
}

/** The acknowledged total of a producer's JSON log line `loop sent`, if it is one. */
export function producedFromLogLine(line: string): number | undefined {
  if (!line.includes('"loop sent"')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: string; produced?: unknown };
    return entry.msg === 'loop sent' && typeof entry.produced === 'number' ? entry.produced : undefined;
  } catch {
    return undefined;
  }
}
