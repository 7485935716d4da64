import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Message {
  key: string;
  partition: number;
}
type Group = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<number, Message[]>;

const require = createRequire(import.meta.url);
const PRELOAD = fileURLToPath(new URL('./kafkajs-linear-grouping.cjs', import.meta.url));
// This test process does not preload it: kafkajs' own module is the original.
const original = require('kafkajs/src/producer/groupMessagesPerPartition.js') as Group;
const { groupMessagesPerPartition: linear } = require(PRELOAD) as { groupMessagesPerPartition: Group };

function randomMessages(n: number, partitions: number, seed: number): Message[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => ({ key: `k${i}`, partition: next() % partitions }));
}

describe('kafkajs-linear-grouping', () => {
  it("groups like kafkajs' own function: every message under its partition, in send order", () => {
    for (const [n, partitions, seed] of [
      [0, 3, 1],
      [1, 3, 2],
      [400, 3, 3],
      [1_000, 1, 4],
      [2_500, 12, 5],
    ] as const) {
      const args = {
        topic: 't',
        partitionMetadata: Array.from({ length: partitions }, (_, p) => ({ partitionId: p })),
        messages: randomMessages(n, partitions, seed),
        partitioner: ({ message }: { message: Message }) => message.partition,
      };
      expect(linear(args)).toEqual(original(args));
    }
  });

  it('returns no groups when the topic has no partition metadata, as kafkajs does', () => {
    const args = {
      topic: 't',
      partitionMetadata: [],
      messages: randomMessages(5, 3, 6),
      partitioner: () => 0,
    };
    expect(linear(args)).toEqual({});
    expect(original(args)).toEqual({});
  });

  const node = (script: string) =>
    execFileSync(process.execPath, ['--require', PRELOAD, '-e', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();

  it("preloaded, it is what kafkajs' producer requires", () => {
    const script = `
      require('kafkajs');
      const used = require('kafkajs/src/producer/groupMessagesPerPartition.js');
      console.log(used === require(${JSON.stringify(PRELOAD)}).groupMessagesPerPartition);`;
    expect(node(script)).toBe('true');
  });

  it('fails loudly when kafkajs was loaded first (its producer would keep the quadratic function)', () => {
    const script = `
      delete require.cache[${JSON.stringify(PRELOAD)}];
      require('kafkajs');
      require(${JSON.stringify(PRELOAD)});`;
    expect(() => node(script)).toThrow(/kafkajs was loaded before this preload/);
  });
});
