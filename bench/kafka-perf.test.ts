import { describe, expect, it } from 'vitest';
import {
  consumerPerfCommand,
  parseConsumerPerf,
  parseProducerPerf,
  producerPerfCommand,
} from './kafka-perf.ts';

describe('ProducerPerformance', () => {
  it('runs with acks=all, idempotence and our compression', () => {
    const c = producerPerfCommand('p', {
      bootstrap: '127.0.0.1:9092',
      topic: 't',
      records: 1000,
      payloadFile: '/tmp/p.txt',
      compression: 'gzip',
      props: { 'linger.ms': 5 },
    });
    expect(c.args).toEqual(
      expect.arrayContaining(['--num-records', '1000', 'acks=all', 'compression.type=gzip', 'linger.ms=5']),
    );
  });

  it('parses the final summary line', () => {
    const out = [
      '512345 records sent, 102469.0 records/sec (23.36 MB/sec), 80.1 ms avg latency, 400.0 ms max latency.',
      '1000000 records sent, 123456.789 records/sec (28.55 MB/sec), 123.45 ms avg latency, 456.00 ms max latency, 100 ms 50th, 200 ms 95th, 300 ms 99th, 400 ms 99.9th.',
    ].join('\n');
    expect(parseProducerPerf(out)).toEqual({
      records: 1000000,
      recordsPerSecond: 123456.789,
      mbPerSecond: 28.55,
      avgLatencyMs: 123.45,
    });
  });

  it('says so when there is no summary', () => {
    expect(() => parseProducerPerf('Exception in thread main')).toThrow(/no ProducerPerformance summary/);
  });
});

describe('ConsumerPerformance', () => {
  it('builds its command', () => {
    const c = consumerPerfCommand('c', { bootstrap: 'b:1', topic: 't', messages: 5, group: 'g' });
    expect(c.args).toEqual(expect.arrayContaining(['--messages', '5', '--group', 'g', '--topic', 't']));
  });

  it('parses the header and value lines', () => {
    const out = [
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-28 18:00:00:000, 2026-11-28 18:00:05:000, 238.4186, 47.6837, 1000000, 200000.0000, 3012, 1988, 119.9289, 503018.1087',
    ].join('\n');
    expect(parseConsumerPerf(out)).toEqual({
      messages: 1000000,
      messagesPerSecond: 200000,
      fetchMessagesPerSecond: 503018.1087,
      mb: 238.4186,
    });
  });
});
