// Turns one Kafka batch of one partition into what the store writes and what goes to the
// dead-letter topic. Pure: no Kafka, no SQLite; the joined-attribute lookup is passed in.
import { isRejection, parsePopulationMessage, type PopulationEvent, type RejectReason } from './message.ts';
import type { DeadLetterRow, StoredEvent } from './store.ts';

/** The part of a kafkajs message this module reads. */
export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** A dead-letter record as sent to population_data.dlq (docs/CONTRACTS.md). */
export interface DeadLetterMessage {
  key: string;
  value: string;
}

export interface PreparedBatch {
  events: StoredEvent[];
  deadLetters: DeadLetterRow[];
  dlqMessages: DeadLetterMessage[];
  /** Offset after the last message of the batch; null when every message was already stored. */
  nextOffset: number | null;
  /** Messages below the stored offset (re-delivered after a seek or a restart), ignored. */
  alreadyStored: number;
}

/** Ids with joined attributes for a date; undefined when the date has no joined data at all. */
export type JoinedLookup = (date: string) => ReadonlySet<number> | undefined;

/** Keeps the original value readable in the DLQ when it is text, base64 otherwise. */
function originalValue(value: Buffer | null): string | null {
  if (value === null) return null;
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? text : `base64:${value.toString('base64')}`;
}

export function deadLetterMessage(
  topic: string,
  partition: number,
  message: RawMessage,
  reason: RejectReason,
  detail: string,
): DeadLetterMessage {
  return {
    // Keyed by the source coordinates: a DLQ record re-sent after a crash carries the same key.
    key: `${topic}:${partition}:${message.offset}`,
    value: JSON.stringify({
      reason,
      detail,
      topic,
      partition,
      offset: message.offset,
      key: message.key === null ? null : message.key.toString('utf8'),
      value: originalValue(message.value),
    }),
  };
}

/** First pass: parse and validate; returns the dates whose joined attributes are needed. */
export function parseBatch(
  messages: readonly RawMessage[],
  fromOffset: number | null,
): {
  parsed: (PopulationEvent | { reason: RejectReason; detail: string })[];
  firstIndex: number;
  dates: Set<string>;
} {
  let firstIndex = 0;
  if (fromOffset !== null) {
    while (firstIndex < messages.length && Number(messages[firstIndex]!.offset) < fromOffset) firstIndex++;
  }
  const parsed: (PopulationEvent | { reason: RejectReason; detail: string })[] = new Array(
    messages.length - firstIndex,
  );
  const dates = new Set<string>();
  for (let i = firstIndex; i < messages.length; i++) {
    const m = messages[i]!;
    const r = parsePopulationMessage(m.value, m.key);
    parsed[i - firstIndex] = r;
    if (!isRejection(r)) dates.add(r.date);
  }
  return { parsed, firstIndex, dates };
}

/**
 * Splits a batch into events to store (validated and with a joined row for their date and Id)
 * and dead letters (with the reason). `firstIndex` (from parseBatch) skips the messages below the
 * stored next offset, already in SQLite.
 */
export function finishBatch(
  topic: string,
  partition: number,
  messages: readonly RawMessage[],
  firstIndex: number,
  parsed: readonly (PopulationEvent | { reason: RejectReason; detail: string })[],
  joined: JoinedLookup,
): PreparedBatch {
  const events: StoredEvent[] = [];
  const deadLetters: DeadLetterRow[] = [];
  const dlqMessages: DeadLetterMessage[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const m = messages[firstIndex + i]!;
    const offset = Number(m.offset);
    let r = parsed[i]!;
    if (!isRejection(r)) {
      const ids = joined(r.date);
      if (ids === undefined)
        r = { reason: 'missing_joined_file', detail: `no all_data_joined.csv for date ${r.date}` };
      else if (!ids.has(r.id))
        r = {
          reason: 'unmatched_id',
          detail: `id ${r.id} has no row in the joined attributes of date ${r.date}`,
        };
    }
    if (isRejection(r)) {
      deadLetters.push({ partition, offset, reason: r.reason, detail: r.detail });
      dlqMessages.push(deadLetterMessage(topic, partition, m, r.reason, r.detail));
    } else {
      const e = r as StoredEvent;
      e.partition = partition;
      e.offset = offset;
      events.push(e);
    }
  }
  const last = messages[messages.length - 1];
  return {
    events,
    deadLetters,
    dlqMessages,
    nextOffset: parsed.length > 0 && last !== undefined ? Number(last.offset) + 1 : null,
    alreadyStored: firstIndex,
  };
}

/** Bounded mode is done when every partition's stored offset reached the end offset seen at start. */
export function reachedEndOffsets(
  stored: ReadonlyMap<number, number>,
  ends: ReadonlyMap<number, { low: number; high: number }>,
): boolean {
  for (const [partition, { low, high }] of ends) {
    if (high <= low) continue; // empty partition: nothing to consume
    if ((stored.get(partition) ?? -1) < high) return false;
  }
  return true;
}

/** Messages between the stored offsets and the end offsets: the consumer's lag. */
export function remainingMessages(
  stored: ReadonlyMap<number, number>,
  ends: ReadonlyMap<number, { low: number; high: number }>,
): number {
  let total = 0;
  for (const [partition, { low, high }] of ends)
    total += Math.max(0, high - Math.max(low, stored.get(partition) ?? low));
  return total;
}
