import { describe, expect, it } from 'vitest';
import { LIMITS, isRejection, parsePopulationMessage } from './message.ts';

const good = {
  eventId: '0190f6c2-7c1e-7000-8000-000000000001',
  date: '2026-11-28',
  loop: 1,
  id: 3,
  neighborhood: 'Allentown',
  population_estimate_total: 2558,
  population_margin_of_error_total: 449.773276218,
  producedAt: '2026-11-28T17:00:00.000Z',
};
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parsePopulationMessage', () => {
  it('accepts a contract message and maps it to an event', () => {
    const r = parsePopulationMessage(buf(good), Buffer.from('3'));
    expect(r).toEqual({
      eventId: good.eventId,
      date: good.date,
      loop: 1,
      id: 3,
      neighborhood: 'Allentown',
      populationEstimateTotal: 2558,
      populationMarginOfErrorTotal: 449.773276218,
      producedAt: good.producedAt,
    });
  });

  it('keeps unknown (null) estimates as null, never 0', () => {
    const r = parsePopulationMessage(
      buf({ ...good, population_estimate_total: null, population_margin_of_error_total: null }),
      null,
    );
    expect(isRejection(r)).toBe(false);
    expect(r).toMatchObject({ populationEstimateTotal: null, populationMarginOfErrorTotal: null });
  });

  it.each([
    ['not json', '{"eventId": '],
    ['empty value', ''],
    ['plain text', 'hello'],
  ])('rejects %s as invalid_json', (_name, raw) => {
    const r = parsePopulationMessage(Buffer.from(raw), null);
    expect(r).toMatchObject({ reason: 'invalid_json' });
  });

  it('rejects a null value as invalid_json', () => {
    expect(parsePopulationMessage(null, null)).toMatchObject({ reason: 'invalid_json' });
  });

  it.each([
    ['an array', [1, 2]],
    ['a number', 42],
    ['id as a string', { ...good, id: '3' }],
    ['id zero', { ...good, id: 0 }],
    ['fractional id', { ...good, id: 3.5 }],
    ['missing eventId', { ...good, eventId: undefined }],
    ['loop 0', { ...good, loop: 0 }],
    ['bad date', { ...good, date: '28/11/2026' }],
    ['a day that does not exist', { ...good, date: '2026-02-30' }],
    ['a month that does not exist', { ...good, date: '2026-13-45' }],
    ['negative estimate', { ...good, population_estimate_total: -1 }],
    ['fractional estimate', { ...good, population_estimate_total: 2558.5 }],
    ['estimate as a string', { ...good, population_estimate_total: '2558' }],
    ['negative margin', { ...good, population_margin_of_error_total: -0.5 }],
    ['empty neighborhood', { ...good, neighborhood: '' }],
    ['missing producedAt', { ...good, producedAt: undefined }],
  ])('rejects %s as schema_mismatch', (_name, value) => {
    const r = parsePopulationMessage(buf(value), null);
    expect(r).toMatchObject({ reason: 'schema_mismatch' });
  });

  it('rejects a key that is not the id (partitioning relies on it)', () => {
    for (const key of ['4', `0${good.id}`, `${good.id}0`, `+${good.id}`, `${good.id} `, 'x'.repeat(20)]) {
      expect(parsePopulationMessage(buf(good), Buffer.from(key)), key).toMatchObject({
        reason: 'schema_mismatch',
        detail: expect.stringContaining('key'),
      });
    }
    expect(parsePopulationMessage(buf(good), Buffer.from(String(good.id)))).toMatchObject({ id: good.id });
  });

  it.each([
    ['a huge message', { ...good, padding: 'x'.repeat(LIMITS.messageBytes) }],
    ['a long neighborhood', { ...good, neighborhood: 'n'.repeat(LIMITS.neighborhoodChars + 1) }],
    ['a long eventId', { ...good, eventId: 'e'.repeat(LIMITS.eventIdChars + 1) }],
    ['a huge estimate', { ...good, population_estimate_total: LIMITS.maxEstimate + 1 }],
    ['a huge loop', { ...good, loop: LIMITS.maxLoop + 1 }],
  ])('rejects %s as oversized', (_name, value) => {
    const r = parsePopulationMessage(buf(value), null);
    expect(r).toMatchObject({ reason: 'oversized' });
  });
});
