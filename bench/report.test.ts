import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderTable, summarize, verdictOf, type StageResult } from './report.ts';
import { SPEC_TARGETS } from './targets.ts';

const transform: StageResult = {
  stage: 'transform-hdfs',
  ours: {
    name: 'transform-hdfs',
    rows: 250_000,
    samples: [{ seconds: 9, peakRssKb: 300_000 }, { seconds: 10 }, { seconds: 30, peakRssKb: 400_000 }],
  },
  anchor: { name: 'DuckDB', rows: 250_000, samples: [{ seconds: 4 }, { seconds: 5 }, { seconds: 6 }] },
  target: SPEC_TARGETS.transform,
  memoryBoundMb: 500,
  notes: ['streams'],
};

describe('summarize', () => {
  it('takes the median time and the highest RSS', () => {
    expect(summarize(transform.ours)).toMatchObject({
      seconds: 10,
      rowsPerSecond: 25_000,
      peakRssKb: 400_000,
      runs: 3,
    });
  });
});

describe('verdictOf', () => {
  it('compares medians with the anchor', () => {
    expect(verdictOf(transform)).toEqual({ pass: false, detail: '2.00x anchor time (<= 1x anchor time)' });
  });

  it('uses the load generator rate and p99 for HTTP stages', () => {
    const api: StageResult = {
      stage: 'api',
      ours: { name: 'api', rows: 100, samples: [{ seconds: 10 }] },
      target: SPEC_TARGETS.api,
      http: { requestsPerSecond: 20_000, p50Ms: 1, p99Ms: 12, anchorRequestsPerSecond: 21_000 },
      notes: [],
    };
    expect(verdictOf(api).pass).toBe(false);
    const fast = { ...api, http: { ...api.http!, p99Ms: 5 } };
    expect(verdictOf(fast)).toMatchObject({ pass: true, detail: expect.stringContaining('95% of anchor') });
  });
});

describe('rendering', () => {
  it('prints one row per stage with PASS/FAIL', () => {
    const table = renderTable([transform]);
    expect(table).toContain('| transform-hdfs |');
    expect(table).toContain('| FAIL ');
    expect(table).toContain('391 MB');
    expect(table).toMatch(/\| 391 MB \(<= 500 MB\) +\| PASS +\|$/m);
  });

  it('writes the machine and the command into the Markdown', () => {
    const md = renderMarkdown({
      command: 'npm run bench -- --quick',
      machine: { cpuModel: 'X', cores: 2, ramGb: 24, node: 'v20', os: 'Linux', date: '2026-11-28T18:00:00Z' },
      parameters: { messages: 1_000_000 },
      results: [transform],
      failures: [{ stage: 'api', error: 'down' }],
    });
    expect(md).toContain('X, 2 cores, 24 GB RAM, Node v20');
    expect(md).toContain('`npm run bench -- --quick`');
    expect(md).toContain('- api: down');
  });
});
