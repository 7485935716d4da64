import { describe, expect, it } from 'vitest';
import { createEventIdGenerator, encodeRow, messageValue } from './message.ts';

describe('createEventIdGenerator', () => {
  it('gives unique, increasing UUIDv7-shaped ids, even many within one millisecond', () => {
    const next = createEventIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 5))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('differs between two generators at the same instant', () => {
    const a = createEventIdGenerator(() => 5);
    const b = createEventIdGenerator(() => 5);
    expect(a()).not.toBe(b());
  });
});

describe('messageValue', () => {
  it('encodes the contract message as valid JSON keyed by Id', () => {
    const row = encodeRow({
      id: 3,
      neighborhood: 'Allen "town"',
      populationEstimateTotal: 2558,
      populationMarginOfErrorTotal: 449.77,
    });
    expect(row.key).toBe('3');
    const value = JSON.parse(messageValue(row, 'ev-1', '2026-11-28', 2, '2026-11-28T00:00:00.000Z'));
    expect(value).toEqual({
      eventId: 'ev-1',
      date: '2026-11-28',
      loop: 2,
      id: 3,
      neighborhood: 'Allen "town"',
      population_estimate_total: 2558,
      population_margin_of_error_total: 449.77,
      producedAt: '2026-11-28T00:00:00.000Z',
    });
  });

  it('writes unknown values as null, never 0', () => {
    const row = encodeRow({
      id: 1,
      neighborhood: 'A',
      populationEstimateTotal: null,
      populationMarginOfErrorTotal: null,
    });
    const value = JSON.parse(messageValue(row, 'e', '2026-11-28', 1, 'now'));
    expect(value.population_estimate_total).toBeNull();
    expect(value.population_margin_of_error_total).toBeNull();
  });
});
