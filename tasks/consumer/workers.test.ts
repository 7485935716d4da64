import { describe, expect, it } from 'vitest';
import { emptySummary, type ConsumerSummary } from './run.ts';
import { combineSummaries } from './workers.ts';

const part = (over: Partial<ConsumerSummary>): ConsumerSummary => ({
  ...emptySummary('bounded', 't', 'g', 1),
  ...over,
});

describe('combineSummaries', () => {
  it('adds up the workers and keeps the furthest offset of each partition', () => {
    const total = combineSummaries(
      [
        part({
          stored: 600,
          deadLetters: 1,
          rejectsByReason: { oversized: 1 },
          offsets: { '0': 300, '1': 10 },
        }),
        part({
          stored: 400,
          deadLetters: 2,
          rejectsByReason: { oversized: 1, invalid_json: 1 },
          offsets: { '1': 310, '2': 300 },
          staleBatches: 1,
        }),
      ],
      2,
    );
    expect(total).toMatchObject({
      stored: 1000,
      deadLetters: 3,
      staleBatches: 1,
      rejectsByReason: { oversized: 2, invalid_json: 1 },
      offsets: { '0': 300, '1': 310, '2': 300 },
      seconds: 2,
      messagesPerSecond: 502,
    });
  });
});
