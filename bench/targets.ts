// The quality bars of SPEC section 9 and their evaluation against a measured row. Pure.

export type Target =
  /** Absolute throughput floor, e.g. consumer >= 100k msg/s. */
  | { kind: 'minRate'; perSecond: number }
  /** Our throughput / anchor throughput must be at least `ratio` (producer >= 80% of perf-test). */
  | { kind: 'minThroughputRatio'; ratio: number }
  /** Our time / anchor time must be at most `ratio` (transform <= 1x, cube <= 1.5x DuckDB). */
  | { kind: 'maxTimeRatio'; ratio: number }
  /**
   * HTTP load: requests/s floor, p99 latency ceiling, and requests/s at least `minAnchorRatio` of a bare
   * node:http server replaying the same response in the same run.
   */
  | { kind: 'http'; minRequestsPerSecond: number; maxP99Ms: number; minAnchorRatio: number }
  /** Live mode: the worst age of the newest event in the served cubes (a change reaches the API within). */
  | { kind: 'maxFreshness'; seconds: number };

export interface Measured {
  rowsPerSecond: number;
  seconds: number;
  anchorRowsPerSecond?: number;
  anchorSeconds?: number;
  p99Ms?: number;
  /** Live mode: the worst freshness of the served cubes seen, seconds. */
  worstFreshnessSeconds?: number;
}

export interface Verdict {
  pass: boolean;
  /** The measured value compared with the bar, e.g. "62% of anchor (>= 50%)". */
  detail: string;
}

export const SPEC_TARGETS = {
  producer: { kind: 'minThroughputRatio', ratio: 0.8 },
  consumer: { kind: 'minRate', perSecond: 100_000 },
  transform: { kind: 'maxTimeRatio', ratio: 1 },
  computeCube: { kind: 'maxTimeRatio', ratio: 1.5 },
  api: { kind: 'http', minRequestsPerSecond: 15_000, maxP99Ms: 10, minAnchorRatio: 0.9 },
  live: { kind: 'maxFreshness', seconds: 60 },
} as const satisfies Record<string, Target>;

/** Peak RSS of the stage's process tree at the SPEC's size (5M messages over 250k Ids), MB. */
export const MEMORY_BOUNDS_MB = {
  producer: 300,
  consumer: 600,
  transform: 500,
  computeCube: 500,
} as const;

/** A stage's peak RSS against its bound; undefined when the stage has no bound. */
export function evaluateMemory(
  peakRssKb: number | undefined,
  boundMb: number | undefined,
): Verdict | undefined {
  if (boundMb === undefined) return undefined;
  if (peakRssKb === undefined) return { pass: false, detail: `not measured (<= ${boundMb} MB)` };
  const mb = Math.round(peakRssKb / 1024);
  return { pass: mb <= boundMb, detail: `${mb} MB (<= ${boundMb} MB)` };
}

/** Throughput ratio ours/anchor (1 = as fast as the anchor); undefined without an anchor. */
export function throughputRatio(m: Measured): number | undefined {
  return m.anchorRowsPerSecond ? m.rowsPerSecond / m.anchorRowsPerSecond : undefined;
}

/** Time ratio ours/anchor (2 = twice as slow as the anchor); undefined without an anchor. */
export function timeRatio(m: Measured): number | undefined {
  return m.anchorSeconds ? m.seconds / m.anchorSeconds : undefined;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function describeTarget(t: Target): string {
  switch (t.kind) {
    case 'minRate':
      return `>= ${int(t.perSecond)}/s`;
    case 'minThroughputRatio':
      return `>= ${Math.round(t.ratio * 100)}% of anchor`;
    case 'maxTimeRatio':
      return `<= ${t.ratio}x anchor time`;
    case 'http':
      return `>= ${int(t.minRequestsPerSecond)} req/s, p99 <= ${t.maxP99Ms} ms, >= ${Math.round(t.minAnchorRatio * 100)}% of anchor req/s`;
    case 'maxFreshness':
      return `freshness <= ${t.seconds} s`;
  }
}

export function evaluate(target: Target, m: Measured): Verdict {
  switch (target.kind) {
    case 'minRate':
      return {
        pass: m.rowsPerSecond >= target.perSecond,
        detail: `${int(m.rowsPerSecond)}/s (${describeTarget(target)})`,
      };
    case 'minThroughputRatio': {
      const r = throughputRatio(m);
      if (r === undefined) return { pass: false, detail: 'no anchor measured' };
      return {
        pass: r >= target.ratio,
        detail: `${Math.round(r * 100)}% of anchor (${describeTarget(target)})`,
      };
    }
    case 'maxTimeRatio': {
      const r = timeRatio(m);
      if (r === undefined) return { pass: false, detail: 'no anchor measured' };
      return { pass: r <= target.ratio, detail: `${r.toFixed(2)}x anchor time (${describeTarget(target)})` };
    }
    case 'http': {
      if (m.p99Ms === undefined) return { pass: false, detail: 'no latency measured' };
      const r = throughputRatio(m);
      if (r === undefined) return { pass: false, detail: 'no anchor measured' };
      const pass =
        m.rowsPerSecond >= target.minRequestsPerSecond &&
        m.p99Ms <= target.maxP99Ms &&
        r >= target.minAnchorRatio;
      return {
        pass,
        detail: `${int(m.rowsPerSecond)} req/s, p99 ${m.p99Ms} ms, ${Math.round(r * 100)}% of anchor (${describeTarget(target)})`,
      };
    }
    case 'maxFreshness': {
      const worst = m.worstFreshnessSeconds;
      if (worst === undefined || !Number.isFinite(worst))
        return { pass: false, detail: 'no freshness measured' };
      return {
        pass: worst <= target.seconds,
        detail: `worst ${worst.toFixed(1)} s (${describeTarget(target)})`,
      };
    }
  }
}
