// One typed configuration object for every task and the API (Twelve-Factor: environment first,
// then CLI flags on top). Defaults target the local stack on loopback; `.env.example` lists them all.
import path from 'node:path';
import { isCalendarDate } from './calendar-date.ts';

export interface Config {
  /** Logical date of the run (YYYY-MM-DD); scopes every output. */
  date: string;
  kafka: {
    brokers: string[];
    clientId: string;
    topic: string;
    dlqTopic: string;
    groupId: string;
    partitions: number;
  };
  hdfs: {
    /** WebHDFS base, e.g. http://127.0.0.1:9870 */
    url: string;
    user: string;
    rawDir: string;
    processedDir: string;
  };
  sqlite: {
    /** base_de_donnees.db: formatted rows (donnees_formatees) and consumer offsets. */
    dbPath: string;
    /** cube_analytics.db: the cubes served by the API. */
    cubeDbPath: string;
  };
  metrics: {
    /** Pushgateway base URL for batch tasks; empty disables pushing. */
    pushgatewayUrl: string;
    /** Port of the /metrics endpoint of long-running processes (consumer --follow); 0 disables it. */
    port: number;
  };
  api: {
    port: number;
    host: string;
    corsOrigin: string;
  };
  logLevel: string;
  varDir: string;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(env: Env, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${key} must be a non-negative integer, got "${raw}"`);
  return n;
}

function str(env: Env, key: string, fallback: string): string {
  const raw = env[key];
  return raw === undefined || raw === '' ? fallback : raw;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Validates a logical date: well-formed and a real calendar day. */
export function parseDate(value: string): string {
  if (!isCalendarDate(value))
    throw new ConfigError(`--date must be a calendar date YYYY-MM-DD, got "${value}"`);
  return value;
}

export function loadConfig(env: Env = process.env): Config {
  const varDir = path.resolve(str(env, 'VAR_DIR', 'var'));
  const brokers = str(env, 'KAFKA_BROKERS', '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS must list at least one host:port');
  const topic = str(env, 'KAFKA_TOPIC', 'population_data');
  return {
    date: parseDate(str(env, 'RUN_DATE', today())),
    kafka: {
      brokers,
      clientId: str(env, 'KAFKA_CLIENT_ID', 'population-pipeline'),
      topic,
      dlqTopic: str(env, 'KAFKA_DLQ_TOPIC', `${topic}.dlq`),
      groupId: str(env, 'KAFKA_GROUP_ID', 'population-consumer'),
      partitions: int(env, 'KAFKA_PARTITIONS', 3),
    },
    hdfs: {
      url: str(env, 'HDFS_URL', 'http://127.0.0.1:9870').replace(/\/+$/, ''),
      user: str(env, 'HDFS_USER', 'hdfs'),
      rawDir: str(env, 'HDFS_RAW_DIR', '/data/raw'),
      processedDir: str(env, 'HDFS_PROCESSED_DIR', '/data/processed'),
    },
    sqlite: {
      dbPath: path.resolve(str(env, 'DB_PATH', path.join(varDir, 'base_de_donnees.db'))),
      cubeDbPath: path.resolve(str(env, 'CUBE_DB', path.join(varDir, 'cube_analytics.db'))),
    },
    metrics: {
      pushgatewayUrl: str(env, 'PUSHGATEWAY_URL', 'http://127.0.0.1:9091'),
      port: int(env, 'METRICS_PORT', 0),
    },
    api: {
      port: int(env, 'API_PORT', 8000),
      host: str(env, 'API_HOST', '0.0.0.0'),
      corsOrigin: str(env, 'CORS_ORIGIN', '*'),
    },
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    varDir,
  };
}
