// Validation of one `population_data` message against the topic contract (docs/CONTRACTS.md).
// Pure and hand-written (no schema library): it runs once per message at 100k+ messages/s, so it
// checks types and sizes with plain comparisons and returns a reason instead of throwing.
import { isCalendarDate } from '../../lib/calendar-date.ts';

/** Why a message cannot be stored; each reason is a label of consumer_rejects_total. */
export type RejectReason =
  | 'invalid_json'
  | 'schema_mismatch'
  | 'oversized'
  /** The date has joined attributes, but none for this Id. */
  | 'unmatched_id'
  /** The date has no all_data_joined.csv (and no latest file to fall back on in --follow mode). */
  | 'missing_joined_file';

export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_json',
  'schema_mismatch',
  'oversized',
  'unmatched_id',
  'missing_joined_file',
];

export interface Rejection {
  reason: RejectReason;
  detail: string;
}

/** The stream's facts of one message, as stored narrow in `events`. */
export interface PopulationEvent {
  eventId: string;
  date: string;
  loop: number;
  id: number;
  neighborhood: string;
  populationEstimateTotal: number | null;
  populationMarginOfErrorTotal: number | null;
  producedAt: string;
}

/** Size limits: a real message is ~250 bytes; anything far larger is garbage or an attack. */
export const LIMITS = {
  messageBytes: 4096,
  eventIdChars: 64,
  neighborhoodChars: 200,
  producedAtChars: 40,
  /** Largest loop number accepted (the producer's --follow mode counts loops up). */
  maxLoop: 1_000_000_000,
  /** Largest count accepted: no neighborhood has more people than this. */
  maxEstimate: 1_000_000_000,
} as const;

// The messages of a run share one date: the last date that passed skips the calendar check.
let lastCalendarDate = '';

function isMessageDate(date: unknown): date is string {
  if (date === lastCalendarDate) return true;
  if (typeof date !== 'string' || !isCalendarDate(date)) return false;
  lastCalendarDate = date;
  return true;
}

export function isRejection(value: PopulationEvent | Rejection): value is Rejection {
  return (value as Rejection).reason !== undefined;
}

/** The key's bytes are `String(id)` (compared without building strings: this runs per message). */
function keyIsId(key: Buffer, id: number): boolean {
  if (key.length > 16 || (key[0] === 0x30 && key.length > 1)) return false;
  let n = 0;
  for (let i = 0; i < key.length; i++) {
    const digit = key[i]! - 0x30;
    if (digit < 0 || digit > 9) return false;
    n = n * 10 + digit;
  }
  return n === id;
}

function reject(reason: RejectReason, detail: string): Rejection {
  return { reason, detail };
}

function isNonNegativeIntOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
}

function isNonNegativeNumberOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
}

/**
 * Parses and validates one message value. `key` is the Kafka key: when present it must be the Id,
 * since partitioning (and so "latest per Id") relies on it.
 */
export function parsePopulationMessage(
  value: Buffer | null,
  key: Buffer | null,
): PopulationEvent | Rejection {
  if (value === null || value.length === 0) return reject('invalid_json', 'empty message value');
  if (value.length > LIMITS.messageBytes) {
    return reject('oversized', `message of ${value.length} bytes exceeds ${LIMITS.messageBytes}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return reject('invalid_json', (err as Error).message.slice(0, 200));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject('schema_mismatch', 'value is not a JSON object');
  }
  const m = parsed as Record<string, unknown>;
  const { eventId, date, loop, id, neighborhood, producedAt } = m;
  const estimate = m.population_estimate_total;
  const margin = m.population_margin_of_error_total;

  if (typeof eventId !== 'string' || eventId.length === 0)
    return reject('schema_mismatch', 'eventId must be a non-empty string');
  if (eventId.length > LIMITS.eventIdChars)
    return reject('oversized', `eventId longer than ${LIMITS.eventIdChars} characters`);
  if (!isMessageDate(date)) return reject('schema_mismatch', 'date must be a calendar date YYYY-MM-DD');
  if (typeof loop !== 'number' || !Number.isSafeInteger(loop) || loop < 1) {
    return reject('schema_mismatch', 'loop must be an integer >= 1');
  }
  if (loop > LIMITS.maxLoop) return reject('oversized', `loop greater than ${LIMITS.maxLoop}`);
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    return reject('schema_mismatch', 'id must be a positive integer');
  }
  if (typeof neighborhood !== 'string' || neighborhood.length === 0) {
    return reject('schema_mismatch', 'neighborhood must be a non-empty string');
  }
  if (neighborhood.length > LIMITS.neighborhoodChars) {
    return reject('oversized', `neighborhood longer than ${LIMITS.neighborhoodChars} characters`);
  }
  if (!isNonNegativeIntOrNull(estimate)) {
    return reject('schema_mismatch', 'population_estimate_total must be a non-negative integer or null');
  }
  if (estimate !== null && estimate > LIMITS.maxEstimate) {
    return reject('oversized', `population_estimate_total greater than ${LIMITS.maxEstimate}`);
  }
  // Margins of error are reals in the published files (aggregates such as 449.773276218).
  if (!isNonNegativeNumberOrNull(margin)) {
    return reject(
      'schema_mismatch',
      'population_margin_of_error_total must be a non-negative number or null',
    );
  }
  if (margin !== null && margin > LIMITS.maxEstimate) {
    return reject('oversized', `population_margin_of_error_total greater than ${LIMITS.maxEstimate}`);
  }
  if (typeof producedAt !== 'string' || producedAt.length === 0) {
    return reject('schema_mismatch', 'producedAt must be an ISO-8601 string');
  }
  if (producedAt.length > LIMITS.producedAtChars) {
    return reject('oversized', `producedAt longer than ${LIMITS.producedAtChars} characters`);
  }
  if (key !== null && key.length > 0 && !keyIsId(key, id)) {
    return reject(
      'schema_mismatch',
      `key ${JSON.stringify(key.toString('utf8').slice(0, 40))} is not the id ${id}`,
    );
  }
  return {
    eventId,
    date,
    loop,
    id,
    neighborhood,
    populationEstimateTotal: estimate,
    populationMarginOfErrorTotal: margin,
    producedAt,
  };
}
