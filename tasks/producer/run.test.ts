import { describe, expect, it } from 'vitest';
import { followLoopNumber } from './run.ts';

describe('followLoopNumber', () => {
  it('counts seconds since 2020 and always grows, across a restart too', () => {
    const t = Date.UTC(2026, 11, 1, 15, 0, 0);
    const first = followLoopNumber(t, 0);
    expect(first).toBe((t - Date.UTC(2020, 0, 1)) / 1000);
    // Two loops in the same second still get increasing numbers.
    expect(followLoopNumber(t + 200, first)).toBe(first + 1);
    // A restart ten minutes later (previous state lost) starts above every number of the first run,
    // which sent one loop every 10 s.
    expect(followLoopNumber(t + 600_000, 0)).toBeGreaterThan(first + 59);
    expect(first).toBeLessThan(1_000_000_000); // the consumer's maxLoop
  });
});
