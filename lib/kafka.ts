// Thin kafkajs adapter: one way to build the client (short connection timeouts, logs bridged to
// pino), idempotent topic creation, and the mapping of kafkajs' nested connection errors to one
// line that names the broker address, so a task fails in seconds with a message a person can act on.
import { Kafka, logLevel, type Admin, type KafkaConfig, type LogEntry, type logCreator } from 'kafkajs';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export { logLevel };
export type { Admin, Kafka };

export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
  constructor(
    readonly brokers: readonly string[],
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Kafka broker unreachable at ${brokers.join(',')}: ${reason}`, options);
  }
}

export interface KafkaOptions {
  /** Where kafkajs logs go; without one they are dropped (kafkajs logs to stdout by default). */
  logger?: Logger;
  /** Time to open a TCP connection to a broker (kafkajs default 1000 ms). */
  connectionTimeoutMs?: number;
  /** Retries of a failed request or connection before giving up (kafkajs default 5, up to 30 s apart). */
  retries?: number;
  /** Upper bound of the back-off between retries. */
  maxRetryTimeMs?: number;
}

// Short by default: with 5 retries capped at 2 s an unreachable broker fails in about 5–10 s instead
// of kafkajs' default of up to minutes. Long-running consumers pass more retries to ride out restarts.
const DEFAULTS = { connectionTimeoutMs: 3000, retries: 5, maxRetryTimeMs: 2000 } as const;

const PINO_LEVEL: Record<logLevel, 'silent' | 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.NOTHING]: 'silent',
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Maps a pino level name to the kafkajs level that lets through the same messages. */
export function kafkaLogLevelFor(pinoLevel: string): logLevel {
  switch (pinoLevel) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'error':
    case 'fatal':
      return logLevel.ERROR;
    default:
      return logLevel.NOTHING;
  }
}

/** A kafkajs logCreator writing each entry as a pino line with the kafkajs namespace. */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      // pino stamps its own time; kafkajs' timestamp would only duplicate it.
      const extra: Record<string, unknown> = { ...log };
      delete extra.message;
      delete extra.timestamp;
      const method = PINO_LEVEL[level];
      if (method === 'silent') return;
      logger[method]({ kafkajs: namespace, ...extra }, log.message);
    };
}

const silentLogCreator: logCreator = () => () => undefined;

/** The kafkajs configuration for the project's Kafka settings (pure; exported for tests). */
export function kafkaClientConfig(config: Config['kafka'], options: KafkaOptions = {}): KafkaConfig {
  const { logger } = options;
  return {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
    retry: {
      retries: options.retries ?? DEFAULTS.retries,
      initialRetryTime: 200,
      maxRetryTime: options.maxRetryTimeMs ?? DEFAULTS.maxRetryTimeMs,
    },
    logLevel: logger ? kafkaLogLevelFor(logger.level) : logLevel.NOTHING,
    logCreator: logger ? pinoLogCreator(logger) : silentLogCreator,
  };
}

export function createKafka(config: Config['kafka'], options: KafkaOptions = {}): Kafka {
  return new Kafka(kafkaClientConfig(config, options));
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** Every error in a kafkajs chain: retries wrap causes, aggregates hold lists (pure). */
function errorChain(err: unknown, seen = new Set<unknown>()): ErrorLike[] {
  if (err === null || typeof err !== 'object' || seen.has(err)) return [];
  seen.add(err);
  const e = err as ErrorLike;
  const nested = [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return [e, ...nested.flatMap((n) => errorChain(n, seen))];
}

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
]);
const SOCKET_CODES =
  /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE)$/;

/**
 * The short reason of a broker connection failure found anywhere in an error's chain, or undefined
 * when the error is something else (a protocol error, a bug). `connect ECONNREFUSED 127.0.0.1:9092`
 * becomes `connect ECONNREFUSED`: the address is already in the message's prefix.
 */
export function connectionFailureReason(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const name = typeof e.name === 'string' ? e.name : '';
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : String(e.message);
    // Some wrappers copy the connection error's message but drop its class and cause.
    const looksLikeConnection = /^Connection (error|timeout)/.test(message);
    if (!CONNECTION_ERRORS.has(name) && !SOCKET_CODES.test(code) && !looksLikeConnection) continue;
    return (
      message
        .replace(/^Connection error: /, '')
        .replace(/\s+\[?[\w.:-]+\]?:\d+$/, '')
        .split('\n')[0]
        ?.trim() ||
      code ||
      name
    ).replace(/^Connection timeout$/, 'connection timeout');
  }
  return undefined;
}

/** A BrokerUnavailableError when the error is a connection failure, else the error unchanged. */
export function toBrokerError(err: unknown, brokers: readonly string[]): unknown {
  if (err instanceof BrokerUnavailableError) return err;
  const reason = connectionFailureReason(err);
  return reason === undefined ? err : new BrokerUnavailableError(brokers, reason, { cause: err });
}

/** Runs a kafkajs call, rethrowing a connection failure as a BrokerUnavailableError. */
export async function withBrokerErrors<T>(brokers: readonly string[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toBrokerError(err, brokers);
  }
}

/** Connects a short-lived admin client of `kafka`, runs `fn` with it and always disconnects. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates a topic unless it exists; resolves to true when it was created. Never shrinks or
 * re-partitions an existing topic: a different partition count there is the operator's call.
 */
export async function ensureTopic(
  admin: Admin,
  name: string,
  partitions: number,
  replicationFactor = 1,
): Promise<boolean> {
  const existing = await admin.listTopics();
  if (existing.includes(name)) return false;
  // createTopics answers false (no throw) when another client created it in the meantime.
  return admin.createTopics({
    topics: [{ topic: name, numPartitions: partitions, replicationFactor }],
    waitForLeaders: true,
  });
}

/** The number of partitions of an existing topic (what a producer must hash keys over). */
export async function topicPartitionCount(admin: Admin, name: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
  const count = topics.find((t) => t.name === name)?.partitions.length ?? 0;
  if (count === 0) throw new Error(`topic ${name} has no partitions in the cluster metadata`);
  return count;
}

/** Low and high (end) offsets of one partition. */
export interface PartitionRange {
  low: number;
  high: number;
}

/** The low and high offsets of every partition of a topic, by partition. */
export function fetchEndOffsets(kafka: Kafka, topic: string): Promise<Map<number, PartitionRange>> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  });
}
