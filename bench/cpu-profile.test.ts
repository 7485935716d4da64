import { describe, expect, it } from 'vitest';
import { ownerOf, summarizeProfile, type CpuProfile } from './cpu-profile.ts';

describe('ownerOf', () => {
  it('names packages, node internals and repo files', () => {
    expect(ownerOf('file:///work/main/node_modules/kafkajs/src/protocol/decoder.js')).toBe('kafkajs');
    expect(ownerOf('file:///w/node_modules/@duckdb/node-api/lib/x.js')).toBe('@duckdb/node-api');
    expect(ownerOf('node:internal/streams/readable')).toBe('node internals');
    expect(ownerOf('file:///work/main/tasks/consumer/store.ts')).toBe('tasks/consumer/store.ts');
    expect(ownerOf('')).toBe('(native/gc/idle)');
    expect(ownerOf('data:text/javascript;bundle=tasks/producer/sender-worker.ts;base64,dmFy')).toBe(
      'tasks/producer/sender-worker.ts (bundled)',
    );
  });
});

describe('summarizeProfile', () => {
  it('adds self time per function and per owner', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3] },
        {
          id: 2,
          callFrame: { functionName: 'decode', url: 'file:///r/node_modules/kafkajs/a.js', lineNumber: 9 },
        },
        {
          id: 3,
          callFrame: { functionName: 'run', url: 'file:///r/tasks/consumer/store.ts', lineNumber: 0 },
        },
      ],
      samples: [2, 2, 3, 2],
      timeDeltas: [1000, 1000, 2000, 1000],
    };
    const s = summarizeProfile(profile);
    expect(s.totalMs).toBe(5);
    expect(s.byOwner[0]).toEqual({ name: 'kafkajs', ms: 3, percent: 60 });
    expect(s.byFunction[1]).toEqual({ name: 'run tasks/consumer/store.ts:1', ms: 2, percent: 40 });
  });
});
