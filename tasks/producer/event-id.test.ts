import { describe, expect, it } from 'vitest';
import { EVENT_ID_LIMITS, deterministicEventId, runKeyOf } from './event-id.ts';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('runKeyOf', () => {
  const rows = ['{"id":1}', '{"id":2}'];

  it('is the same for the same topic, date and rows', () => {
    expect(runKeyOf('t', '2026-01-20', rows)).toBe(runKeyOf('t', '2026-01-20', [...rows]));
    expect(runKeyOf('t', '2026-01-20', rows)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('changes with the topic, the date or any row', () => {
    const key = runKeyOf('t', '2026-01-20', rows);
    expect(runKeyOf('u', '2026-01-20', rows)).not.toBe(key);
    expect(runKeyOf('t', '2026-01-21', rows)).not.toBe(key);
    expect(runKeyOf('t', '2026-01-20', ['{"id":1}', '{"id":3}'])).not.toBe(key);
    // Row boundaries count: the same characters split differently are other rows.
    expect(runKeyOf('t', '2026-01-20', ['{"id":1}{"id":2}'])).not.toBe(key);
  });
});

describe('deterministicEventId', () => {
  const key = 'a1b2c3d4e5f6';

  it('gives the same id for the same run, loop and row, as a UUIDv8', () => {
    expect(deterministicEventId(key, 3, 41)).toBe(deterministicEventId(key, 3, 41));
    expect(deterministicEventId(key, 3, 41)).toMatch(UUID_V8);
    expect(deterministicEventId(key, 1, 0)).toBe('a1b2c3d4-e5f6-8000-8000-040000000000');
  });

  it('sorts by loop, then row, and never repeats', () => {
    const ids: string[] = [];
    for (const loop of [0, 1, 63, 64, 2 ** 20 - 1, 2 ** 20, EVENT_ID_LIMITS.loops - 1])
      for (const row of [0, 1, 249_999, EVENT_ID_LIMITS.rows - 1])
        ids.push(deterministicEventId(key, loop, row));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(UUID_V8);
  });

  it('refuses a loop or row that does not fit', () => {
    expect(() => deterministicEventId(key, EVENT_ID_LIMITS.loops, 0)).toThrow(/loop .* does not fit/);
    expect(() => deterministicEventId(key, 1, EVENT_ID_LIMITS.rows)).toThrow(/row .* does not fit/);
    expect(() => deterministicEventId(key, -1, 0)).toThrow(RangeError);
    expect(() => deterministicEventId(key, 1, 1.5)).toThrow(RangeError);
  });
});
