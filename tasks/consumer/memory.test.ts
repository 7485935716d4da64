import { describe, expect, it } from 'vitest';
import { consumerMemoryPlan } from './memory.ts';

describe('consumerMemoryPlan', () => {
  it('splits the budget among the workers after the parent share', () => {
    // (600 - 150) / 2 = 225 MB per worker.
    expect(consumerMemoryPlan(600, 2)).toEqual({ cacheMb: 28, heapMb: 113, semiSpaceMb: 16 });
    expect(consumerMemoryPlan(600, 3)).toEqual({ cacheMb: 19, heapMb: 75, semiSpaceMb: 16 });
    expect(consumerMemoryPlan(1200, 3)).toEqual({ cacheMb: 44, heapMb: 175, semiSpaceMb: 16 });
  });

  it('leaves a single process uncapped (no fork to give the flag to) but sizes its cache', () => {
    expect(consumerMemoryPlan(600, 1)).toEqual({ cacheMb: 64, heapMb: undefined, semiSpaceMb: undefined });
    expect(consumerMemoryPlan(300, 1)).toEqual({ cacheMb: 38, heapMb: undefined, semiSpaceMb: undefined });
  });

  it('refuses a budget that leaves a process less than 128 MB', () => {
    expect(() => consumerMemoryPlan(400, 3)).toThrow(/--max-memory 400 MB leaves 83 MB per consumer process/);
    expect(() => consumerMemoryPlan(100, 1)).toThrow(/at least 128 MB/);
  });
});
