// What every fault of the chaos suite is given: where its runs live (a tag, a work directory, HDFS
// dirs and a date of their own, never the demo's), the clients of the shared stack, the seeded
// random source of its kill points and the signal that stops a service. Built by main, not at import.
import path from 'node:path';
import { loadConfig, type Config } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { createKafka, type Kafka } from '../../lib/kafka.ts';

export interface ChaosContext {
  root: string;
  /** Logical date of every chaos run. */
  date: string;
  /** Unique per chaos run: suffix of its topics, groups and db files. */
  tag: string;
  work: string;
  logs: string;
  rawDir: string;
  processedDir: string;
  /** Environment of every task child. */
  env: Record<string, string>;
  config: Config;
  hdfs: HdfsClient;
  kafka: Kafka;
  /** Reproducible for a given seed. */
  random: () => number;
  /** How a broker or NameNode is stopped: SIGTERM, or SIGKILL with --hard. */
  signal: NodeJS.Signals;
  say: (line: string) => void;
}

/** mulberry32: a small seeded generator, for reproducible kill points. */
export function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createChaosContext(options: {
  root: string;
  seed: number;
  hard: boolean;
  now?: Date;
}): ChaosContext {
  const { root } = options;
  const date = '2000-01-02';
  const tag = (options.now ?? new Date()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const work = path.join(root, 'var', 'chaos');
  const rawDir = '/chaos/raw';
  const processedDir = '/chaos/processed';
  const env = {
    RUN_DATE: date,
    HDFS_RAW_DIR: rawDir,
    HDFS_PROCESSED_DIR: processedDir,
    DB_PATH: path.join(work, 'unused.db'),
    CUBE_DB: path.join(work, 'unused-cube.db'),
    LOG_LEVEL: 'info',
  };
  const config = loadConfig({ ...process.env, ...env });
  return {
    root,
    date,
    tag,
    work,
    logs: path.join(work, 'logs', tag),
    rawDir,
    processedDir,
    env,
    config,
    hdfs: HdfsClient.fromConfig(config.hdfs),
    kafka: createKafka(config.kafka, { retries: 10 }),
    random: mulberry32(options.seed),
    signal: options.hard ? 'SIGKILL' : 'SIGTERM',
    say: (line) => void process.stderr.write(`chaos: ${line}\n`),
  };
}
