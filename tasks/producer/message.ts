// Encoding of population_data messages (docs/CONTRACTS.md). The per-row part of the JSON is built
// once per run and reused by every loop; a message then costs one string concatenation.
import { randomBytes } from 'node:crypto';
import type { PopulationRow } from './rows.ts';

/**
 * UUIDv7-style event ids (RFC 9562): 48-bit millisecond time, a 12-bit counter, 62 random bits
 * drawn once per generator. Unique across processes (random part) and increasing within one, so
 * consumers insert them into their primary-key index in order instead of at random places.
 */
export function createEventIdGenerator(now: () => number = Date.now): () => string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0]! & 0x3f) | 0x80; // RFC 9562 variant 10
  const tail = bytes.toString('hex');
  const variantAndNode = `${tail.slice(0, 4)}-${tail.slice(4, 16)}`;
  let lastMs = 0;
  let counter = 0;
  return () => {
    const ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      counter = 0;
    } else if (++counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond (stays monotonic).
      lastMs++;
      counter = 0;
    }
    const time = lastMs.toString(16).padStart(12, '0');
    return `${time.slice(0, 8)}-${time.slice(8)}-7${counter.toString(16).padStart(3, '0')}-${variantAndNode}`;
  };
}

/** The loop-independent tail of a row's JSON value, and its key. */
export interface EncodedRow {
  key: string;
  tail: string;
}

export function encodeRow(row: PopulationRow): EncodedRow {
  return {
    key: String(row.id),
    tail:
      `,"id":${row.id},"neighborhood":${JSON.stringify(row.neighborhood)}` +
      `,"population_estimate_total":${row.populationEstimateTotal === null ? 'null' : row.populationEstimateTotal}` +
      `,"population_margin_of_error_total":${row.populationMarginOfErrorTotal === null ? 'null' : row.populationMarginOfErrorTotal}`,
  };
}

/** One message value: `{eventId, date, loop, id, neighborhood, population_*, producedAt}`. */
export function messageValue(
  row: Pick<EncodedRow, 'tail'>,
  eventId: string,
  date: string,
  loop: number,
  producedAt: string,
): string {
  return `{"eventId":"${eventId}","date":"${date}","loop":${loop}${row.tail},"producedAt":"${producedAt}"}`;
}
