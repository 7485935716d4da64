// Event ids of a bounded run are derived from what is sent, not drawn at random: a re-run of the
// same date over the same rows (the DAG's retry after a failure mid-send) gives every message the
// id it had the first time, and the consumer, which stores each event id once, drops the copies of
// what the failed run had already delivered. Exactly-once thus holds across producer runs too.
import { createHash } from 'node:crypto';

/** Loops and rows a deterministic id can number (the bits RFC 9562's UUIDv8 layout leaves us). */
export const EVENT_ID_LIMITS = { loops: 2 ** 32, rows: 2 ** 42 } as const;

/**
 * 48 bits naming one bounded run's content: topic, logical date and the rows' encoded messages.
 * Same inputs, same key; any changed row (a corrected file) gives new ids, so nothing new is dropped.
 */
export function runKeyOf(topic: string, date: string, rows: Iterable<string>): string {
  const key = runKeyHasher(topic, date);
  for (const row of rows) key.add(row);
  return key.digest();
}

/** runKeyOf built row by row (`add(key, tail)` hashes the same bytes as the row `${key}${tail}`). */
export function runKeyHasher(
  topic: string,
  date: string,
): { add(...parts: string[]): void; digest(): string } {
  const hash = createHash('sha256').update(`${topic}\n${date}\n`);
  return {
    add: (...parts) => {
      for (const part of parts) hash.update(part);
      hash.update('\n');
    },
    digest: () => hash.digest('hex').slice(0, 12),
  };
}

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');

/**
 * UUIDv8 (RFC 9562, custom layout): run key (48 bits), version 8, the loop's high 12 bits, variant
 * 10, then the loop's low 20 bits and the row index (42 bits). Ids of one run sort by (loop, row),
 * so the consumer appends them to its primary-key index instead of inserting at random places.
 */
export function deterministicEventId(runKey: string, loop: number, row: number): string {
  if (!Number.isInteger(loop) || loop < 0 || loop >= EVENT_ID_LIMITS.loops)
    throw new RangeError(`loop ${loop} does not fit an event id (0 to ${EVENT_ID_LIMITS.loops - 1})`);
  if (!Number.isInteger(row) || row < 0 || row >= EVENT_ID_LIMITS.rows)
    throw new RangeError(`row ${row} does not fit an event id (0 to ${EVENT_ID_LIMITS.rows - 1})`);
  const loopHigh = Math.floor(loop / 2 ** 20);
  const loopLow = loop % 2 ** 20;
  const clockSeq = 0x8000 | (loopLow >>> 6);
  const node = (loopLow & 0x3f) * 2 ** 42 + row;
  return `${runKey.slice(0, 8)}-${runKey.slice(8, 12)}-8${hex(loopHigh, 3)}-${hex(clockSeq, 4)}-${hex(node, 12)}`;
}
