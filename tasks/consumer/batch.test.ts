import { describe, expect, it } from 'vitest';
import {
  finishBatch,
  parseBatch,
  reachedEndOffsets,
  remainingMessages,
  type JoinedLookup,
  type RawMessage,
} from './batch.ts';

/** Both passes, as the consumer runs them: parse, then match against the joined Ids. */
function prepareBatch(
  topic: string,
  partition: number,
  messages: readonly RawMessage[],
  fromOffset: number | null,
  joined: JoinedLookup,
) {
  const { parsed, firstIndex } = parseBatch(messages, fromOffset);
  return finishBatch(topic, partition, messages, firstIndex, parsed, joined);
}

const event = (id: number, loop = 1, date = '2026-11-28') => ({
  eventId: `ev-${id}-${loop}`,
  date,
  loop,
  id,
  neighborhood: `N${id}`,
  population_estimate_total: 100 + id,
  population_margin_of_error_total: 1.5,
  producedAt: '2026-11-28T00:00:00.000Z',
});
const msg = (offset: number, value: unknown, key: string | null = null): RawMessage => ({
  offset: String(offset),
  key: key === null ? null : Buffer.from(key),
  value: typeof value === 'string' ? Buffer.from(value) : Buffer.from(JSON.stringify(value)),
});
const joined = (ids: number[]) => (date: string) => (date === '2026-11-28' ? new Set(ids) : undefined);

describe('prepareBatch', () => {
  it('keeps matched events with their Kafka coordinates and computes the next offset', () => {
    const r = prepareBatch('t', 2, [msg(10, event(1), '1'), msg(11, event(2), '2')], 10, joined([1, 2]));
    expect(r.events.map((e) => [e.id, e.partition, e.offset])).toEqual([
      [1, 2, 10],
      [2, 2, 11],
    ]);
    expect(r.deadLetters).toEqual([]);
    expect(r.nextOffset).toBe(12);
  });

  it('sends every kind of bad message to the DLQ with its reason, keeping the good ones', () => {
    const r = prepareBatch(
      't',
      0,
      [
        msg(0, 'not json'),
        msg(1, { ...event(1), id: 'one' }),
        msg(2, { ...event(1), neighborhood: 'x'.repeat(1000) }),
        msg(3, event(99)),
        msg(4, event(1, 1, '2026-01-01')),
        msg(5, event(2)),
      ],
      null,
      joined([1, 2]),
    );
    expect(r.events.map((e) => e.id)).toEqual([2]);
    expect(r.deadLetters.map((d) => [d.offset, d.reason])).toEqual([
      [0, 'invalid_json'],
      [1, 'schema_mismatch'],
      [2, 'oversized'],
      [3, 'unmatched_id'],
      [4, 'missing_joined_file'],
    ]);
    // The reason's detail says what is missing: the Id's row, or the date's joined file.
    expect(r.deadLetters.map((d) => d.detail).slice(3)).toEqual([
      'id 99 has no row in the joined attributes of date 2026-11-28',
      'no all_data_joined.csv for date 2026-01-01',
    ]);
    expect(r.nextOffset).toBe(6);
    const dlq = JSON.parse(r.dlqMessages[0]!.value);
    expect(dlq).toEqual({
      reason: 'invalid_json',
      detail: expect.any(String),
      topic: 't',
      partition: 0,
      offset: '0',
      key: null,
      value: 'not json',
    });
    expect(r.dlqMessages[0]!.key).toBe('t:0:0');
  });

  it('skips messages below the stored offset (re-delivered after a restart)', () => {
    const r = prepareBatch(
      't',
      0,
      [msg(5, event(1)), msg(6, event(2)), msg(7, event(3))],
      7,
      joined([1, 2, 3]),
    );
    expect(r.alreadyStored).toBe(2);
    expect(r.events.map((e) => e.offset)).toEqual([7]);
    expect(r.nextOffset).toBe(8);
  });

  it('has no next offset when the whole batch was already stored', () => {
    const r = prepareBatch('t', 0, [msg(5, event(1))], 6, joined([1]));
    expect(r.nextOffset).toBeNull();
    expect(r.events).toEqual([]);
  });

  it('keeps a binary value readable in the dead letter', () => {
    const r = prepareBatch(
      't',
      0,
      [{ offset: '0', key: null, value: Buffer.from([0xff, 0xfe, 0x00]) }],
      null,
      joined([]),
    );
    expect(JSON.parse(r.dlqMessages[0]!.value).value).toBe('base64://4A');
  });
});

describe('end offsets (bounded mode)', () => {
  const ends = new Map([
    [0, { low: 0, high: 10 }],
    [1, { low: 0, high: 0 }],
    [2, { low: 5, high: 8 }],
  ]);
  it('is done only when every non-empty partition reached its end offset', () => {
    expect(reachedEndOffsets(new Map([[0, 10]]), ends)).toBe(false);
    expect(
      reachedEndOffsets(
        new Map([
          [0, 10],
          [2, 7],
        ]),
        ends,
      ),
    ).toBe(false);
    expect(
      reachedEndOffsets(
        new Map([
          [0, 10],
          [2, 8],
        ]),
        ends,
      ),
    ).toBe(true);
    expect(
      reachedEndOffsets(
        new Map([
          [0, 12],
          [2, 9],
        ]),
        ends,
      ),
    ).toBe(true);
  });
  it('counts the remaining messages from the low watermark when nothing is stored', () => {
    expect(remainingMessages(new Map(), ends)).toBe(13);
    expect(remainingMessages(new Map([[0, 4]]), ends)).toBe(9);
  });
});
