// Against the real broker found by test/setup/stack.ts (KAFKA_BROKERS).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { BrokerUnavailableError, createKafka, ensureTopic, withBrokerErrors, type Admin } from './kafka.ts';

const config = loadConfig().kafka;
const topic = `it-kafka-adapter-${randomUUID()}`;
let admin: Admin;

beforeAll(async () => {
  admin = createKafka(config).admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('kafka adapter against the broker', () => {
  it('creates a topic once, then reports it exists', async () => {
    expect(await ensureTopic(admin, topic, 2)).toBe(true);
    expect(await ensureTopic(admin, topic, 2)).toBe(false);
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata?.partitions).toHaveLength(2);
  });

  it('the pipeline topic exists with its partitions (created by the stack)', async () => {
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [config.topic] })).topics;
    expect(metadata?.partitions).toHaveLength(config.partitions);
  });

  it('produces a keyed message and consumes it back, key and value intact', async () => {
    const kafka = createKafka(config);
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: `it-${randomUUID()}` });
    const value = JSON.stringify({ id: 42, neighborhood: 'Allegheny Center', at: new Date().toISOString() });
    await producer.connect();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<{ key: string | undefined; value: string | undefined; partition: number }>(
        (resolve) => {
          void consumer.run({
            eachMessage: async ({ message, partition }) => {
              resolve({ key: message.key?.toString(), value: message.value?.toString(), partition });
            },
          });
        },
      );
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: '42', value }] });
      const got = await received;
      expect(got).toEqual({ key: '42', value, partition: meta?.partition });
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('fails fast with one line naming the broker when none listens', async () => {
    const brokers = ['127.0.0.1:1'];
    const producer = createKafka({ ...config, brokers }).producer();
    const started = Date.now();
    const error = await withBrokerErrors(brokers, () => producer.connect()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as Error).message).toBe('Kafka broker unreachable at 127.0.0.1:1: connect ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
