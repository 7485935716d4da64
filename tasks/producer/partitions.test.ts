import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner, murmur2, senderOf } from './partitions.ts';

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

describe('senderOf', () => {
  it('gives each partition to exactly one sender, spreading partitions evenly', () => {
    expect([0, 1, 2, 3, 4, 5].map((p) => senderOf(p, 2))).toEqual([0, 1, 0, 1, 0, 1]);
    expect([0, 1, 2].map((p) => senderOf(p, 3))).toEqual([0, 1, 2]);
    expect([0, 1, 2].map((p) => senderOf(p, 1))).toEqual([0, 0, 0]);
  });
});
