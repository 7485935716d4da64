// Pure checks of the chaos suite: what was produced against what SQLite holds, and whether a file
// read after a fault is one of the whole versions it may be.
import type { EventKey } from './observe.ts';

export interface Tally {
  expected: number;
  stored: number;
  /** Expected keys absent from the store. */
  lost: number;
  /** Stored occurrences beyond the first of a key. */
  duplicated: number;
  /** Stored keys nobody produced. */
  unexpected: number;
}

/** Compares expected keys (a set) with stored keys (a list, duplicates kept). */
export function tally(expected: Iterable<string>, stored: Iterable<string>): Tally {
  const want = new Set(expected);
  const seen = new Map<string, number>();
  let storedCount = 0;
  for (const key of stored) {
    storedCount++;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  let lost = 0;
  for (const key of want) if (!seen.has(key)) lost++;
  let duplicated = 0;
  let unexpected = 0;
  for (const [key, n] of seen) {
    duplicated += n - 1;
    if (!want.has(key)) unexpected++;
  }
  return { expected: want.size, stored: storedCount, lost, duplicated, unexpected };
}

export function isClean(t: Tally): boolean {
  return t.lost === 0 && t.duplicated === 0 && t.unexpected === 0;
}

/** Sums tallies of several checks of one fault. */
export function addTallies(a: Tally, b: Tally): Tally {
  return {
    expected: a.expected + b.expected,
    stored: a.stored + b.stored,
    lost: a.lost + b.lost,
    duplicated: a.duplicated + b.duplicated,
    unexpected: a.unexpected + b.unexpected,
  };
}

export const EMPTY_TALLY: Tally = { expected: 0, stored: 0, lost: 0, duplicated: 0, unexpected: 0 };

export type FileVerdict = 'previous' | 'new' | 'missing' | 'partial';

/** A file seen after a fault must be the whole previous or the whole new version, by hash. */
export function fileVerdict(actual: string | undefined, previous: string, next: string): FileVerdict {
  if (actual === undefined) return 'missing';
  if (actual === previous) return 'previous';
  if (actual === next) return 'new';
  return 'partial';
}

/** Uniform random delays in [min, max) ms, sorted, for kill points spread over a run. */
export function randomDelays(
  count: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number[] {
  return Array.from({ length: count }, () => Math.round(minMs + random() * (maxMs - minMs)));
}

/** How a service stop met the task it was meant to interrupt. */
export type Landing = 'failed' | 'rode out' | 'missed';

/**
 * A stop proves something only if it met work in flight: the task was running with some but not all
 * of its messages done (acknowledged by the broker, or committed in SQLite). It then counts as
 * interrupted if the task failed (a re-run follows), or if it was still running when the service came
 * back: it had work left across the whole outage, so it waited for (retried against) the broker.
 * Anything else is a miss, to be repeated.
 */
export function landing(o: {
  runningAtStop: boolean;
  doneAtStop: number;
  total: number;
  exitCode: number | null;
  runningWhenBack: boolean;
}): Landing {
  const midRun = o.runningAtStop && o.doneAtStop > 0 && o.doneAtStop < o.total;
  if (!midRun) return 'missed';
  if (o.exitCode !== 0) return 'failed';
  return o.runningWhenBack ? 'rode out' : 'missed';
}

/**
 * Produced events against stored ones: lost and duplicated by event id; a duplicate by Kafka
 * coordinates (the same message stored twice under two ids) counts too.
 */
export function eventTallies(expected: readonly EventKey[], stored: readonly EventKey[]): Tally {
  const byId = tally(
    expected.map((e) => e.eventId),
    stored.map((e) => e.eventId),
  );
  const byOffset = tally(
    expected.map((e) => `${e.partition}:${e.offset}`),
    stored.map((e) => `${e.partition}:${e.offset}`),
  );
  return { ...byId, duplicated: Math.max(byId.duplicated, byOffset.duplicated) };
}
