import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner, murmur2, splitBySender } from './partitions.ts';

describe('murmur2', () => {
  it("gives the values of Kafka's UtilsTest", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(Buffer.from(key))).toBe(hash);
  });
});

describe('keyPartitioner', () => {
  it("picks kafkajs' default partition for every key (Ids, any length, non-ASCII)", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 7]) {
      const partitionMetadata: PartitionMetadata[] = Array.from({ length: n }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
      }));
      const ours = keyPartitioner(n);
      const keys = [
        ...Array.from({ length: 3000 }, (_, i) => String(i * 7919)),
        '',
        'é',
        'Ünïcödé-Straße',
        'x'.repeat(33),
      ];
      for (const key of keys)
        expect(ours(key), key).toBe(
          kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }),
        );
    }
  });

  it('spreads Ids over every partition', () => {
    const partitionOf = keyPartitioner(3);
    const counts = [0, 0, 0];
    for (let id = 1; id <= 3000; id++) counts[partitionOf(String(id))]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('splitBySender', () => {
  const rows = [0, 1, 2, 3, 4, 2, 1, 0, 5].map((partition, line) => ({ partition, line }));

  it('gives each partition to exactly one sender and keeps file order within a sender', () => {
    const groups = splitBySender(rows, 2);
    expect(groups.map((g) => g.map((r) => r.line))).toEqual([
      [0, 2, 4, 5, 7],
      [1, 3, 6, 8],
    ]);
    for (const g of groups) expect(new Set(g.map((r) => r.partition % 2)).size).toBe(1);
  });

  it('one sender gets everything in order', () => {
    expect(splitBySender(rows, 1)).toEqual([rows]);
  });
});
