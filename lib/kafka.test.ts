import { Writable } from 'node:stream';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  BrokerUnavailableError,
  connectionFailureReason,
  kafkaClientConfig,
  kafkaLogLevelFor,
  logLevel,
  pinoLogCreator,
  toBrokerError,
  withBrokerErrors,
} from './kafka.ts';

const kafkaConfig = {
  brokers: ['127.0.0.1:9092'],
  clientId: 'test',
  topic: 'population_data',
  dlqTopic: 'population_data.dlq',
  groupId: 'g',
  partitions: 3,
};

// kafkajs wraps a refused connection in a retry error, sometimes inside a non-retriable one.
function refusedAfterRetries(): Error {
  const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
    broker: '127.0.0.1:9092',
    code: 'ECONNREFUSED',
  });
  return new KafkaJSNonRetriableError(
    new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 2000 }),
  );
}

describe('connectionFailureReason', () => {
  it('finds a refused connection inside the retry wrappers, without the address', () => {
    expect(connectionFailureReason(refusedAfterRetries())).toBe('connect ECONNREFUSED');
  });

  it('names a connection timeout', () => {
    const timeout = new KafkaJSConnectionError('Connection timeout', { broker: '10.0.0.1:9092' });
    expect(
      connectionFailureReason(new KafkaJSNumberOfRetriesExceeded(timeout, { retryCount: 1, retryTime: 1 })),
    ).toBe('connection timeout');
  });

  it('recognises a raw socket error by its code', () => {
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND kafka'), { code: 'ENOTFOUND' });
    expect(connectionFailureReason(err)).toBe('getaddrinfo ENOTFOUND kafka');
  });

  it('ignores protocol errors and plain bugs', () => {
    const protocol = new KafkaJSProtocolError({
      message: 'This server does not host this topic-partition',
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: true,
    } as never);
    expect(connectionFailureReason(protocol)).toBeUndefined();
    expect(connectionFailureReason(new TypeError('x is undefined'))).toBeUndefined();
    expect(connectionFailureReason(undefined)).toBeUndefined();
  });

  it('survives cyclic causes', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = a;
    expect(connectionFailureReason(a)).toBeUndefined();
  });
});

describe('toBrokerError / withBrokerErrors', () => {
  it('maps a connection failure to one line naming the brokers', () => {
    const mapped = toBrokerError(refusedAfterRetries(), ['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(mapped).toBeInstanceOf(BrokerUnavailableError);
    expect((mapped as Error).message).toBe(
      'Kafka broker unreachable at 127.0.0.1:9092,127.0.0.1:9093: connect ECONNREFUSED',
    );
    expect((mapped as Error).message).not.toContain('\n');
  });

  it('passes other errors through unchanged', () => {
    const bug = new RangeError('bad');
    expect(toBrokerError(bug, ['b:1'])).toBe(bug);
  });

  it('wraps a failing call', async () => {
    await expect(withBrokerErrors(['b:1'], () => Promise.reject(refusedAfterRetries()))).rejects.toThrow(
      'Kafka broker unreachable at b:1: connect ECONNREFUSED',
    );
    await expect(withBrokerErrors(['b:1'], () => Promise.resolve(7))).resolves.toBe(7);
  });
});

describe('kafkaClientConfig', () => {
  it('uses short timeouts and retries so an unreachable broker fails in seconds', () => {
    const cfg = kafkaClientConfig(kafkaConfig);
    expect(cfg.brokers).toEqual(['127.0.0.1:9092']);
    expect(cfg.clientId).toBe('test');
    expect(cfg.connectionTimeout).toBeLessThanOrEqual(5000);
    expect(cfg.retry?.retries).toBeLessThanOrEqual(5);
    expect(cfg.retry?.maxRetryTime).toBeLessThanOrEqual(5000);
    expect(cfg.logLevel).toBe(logLevel.NOTHING);
  });

  it('lets a long-running caller ask for more retries', () => {
    expect(kafkaClientConfig(kafkaConfig, { retries: 20, maxRetryTimeMs: 10_000 }).retry).toMatchObject({
      retries: 20,
      maxRetryTime: 10_000,
    });
  });
});

describe('logging bridge', () => {
  it('maps pino levels to kafkajs levels', () => {
    expect(kafkaLogLevelFor('debug')).toBe(logLevel.DEBUG);
    expect(kafkaLogLevelFor('info')).toBe(logLevel.INFO);
    expect(kafkaLogLevelFor('warn')).toBe(logLevel.WARN);
    expect(kafkaLogLevelFor('fatal')).toBe(logLevel.ERROR);
    expect(kafkaLogLevelFor('silent')).toBe(logLevel.NOTHING);
  });

  it('writes kafkajs entries as pino JSON lines with the namespace', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const log = pinoLogCreator(logger)(logLevel.INFO);
    log({
      namespace: 'Connection',
      level: logLevel.WARN,
      label: 'WARN',
      log: { timestamp: '2026-01-01T00:00:00Z', message: 'Connection timeout', broker: '127.0.0.1:9092' },
    });
    log({
      namespace: 'X',
      level: logLevel.DEBUG,
      label: 'DEBUG',
      log: { timestamp: 't', message: 'hidden' },
    });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 40,
      kafkajs: 'Connection',
      broker: '127.0.0.1:9092',
      msg: 'Connection timeout',
    });
    expect(entry).not.toHaveProperty('timestamp');
  });
});
