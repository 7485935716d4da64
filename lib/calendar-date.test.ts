import { describe, expect, it } from 'vitest';
import { isCalendarDate } from './calendar-date.ts';

describe('isCalendarDate', () => {
  it('accepts real days, leap days included', () => {
    for (const d of ['2026-01-01', '2026-02-28', '2024-02-29', '2000-02-29', '2026-12-31']) {
      expect(isCalendarDate(d)).toBe(true);
    }
  });

  it('rejects days that do not exist and malformed text', () => {
    for (const d of [
      '2026-02-30',
      '2026-13-45',
      '2026-02-29',
      '1900-02-29',
      '2026-00-10',
      '2026-1-01',
      '20260101',
      '2026-01-01T00:00',
      ' 2026-01-01',
      '',
    ]) {
      expect(isCalendarDate(d)).toBe(false);
    }
  });
});
