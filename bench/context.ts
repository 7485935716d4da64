// What every bench stage shares: its parameters, its private places on the stack (topics, HDFS dirs,
// db files: never the demo's), and a timed runner that logs each child to var/bench/logs.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../lib/config.ts';
import { createKafka } from '../lib/kafka.ts';
import { summarizeProfile, type CpuProfile } from './cpu-profile.ts';
import { ensureSuccess, runTimed, tsCommand, type Command, type Timed } from './spawn.ts';

export interface BenchParams {
  quick: boolean;
  runs: number;
  /** Ids in the generated population (rows per source file). */
  rows: number;
  /** Messages produced and consumed (loops over the population file). */
  messages: number;
  seed: string;
  dirty: number;
  consumerWorkers: number;
  apiSeconds: number;
  apiConnections: number;
  keepTopics: boolean;
  /** Stages to profile: one extra run with node --cpu-prof after the measured runs. */
  profile: string[];
  /**
   * Run the anchors too. Off when a stage only prepares the input of a later one (`--only cube`
   * still needs a topic and a consumer db, not their measurements).
   */
  anchors: boolean;
}

export interface BenchContext {
  params: BenchParams;
  config: Config;
  /** Logical date of every bench output: far from any real run's date. */
  date: string;
  /** Unique per bench run: suffix of its Kafka topics and consumer groups. */
  tag: string;
  root: string;
  workDir: string;
  dataDir: string;
  dbDir: string;
  logDir: string;
  hdfsRawDir: string;
  hdfsProcessedDir: string;
  hdfsAnchorDir: string;
  /** Environment of every task child: the bench's HDFS dirs, db files and date. */
  env: Record<string, string>;
  topicsCreated: string[];
  log: (line: string) => void;
}

export const BENCH_DATE = '2000-01-01';

export function createContext(params: BenchParams, root = process.cwd()): BenchContext {
  const tag = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const workDir = path.join(root, 'var', 'bench');
  const dbDir = path.join(workDir, 'db');
  const logDir = path.join(workDir, 'logs', tag);
  fs.mkdirSync(dbDir, { recursive: true });
  fs.mkdirSync(logDir, { recursive: true });
  const env = {
    RUN_DATE: BENCH_DATE,
    HDFS_RAW_DIR: '/bench/raw',
    HDFS_PROCESSED_DIR: '/bench/processed',
    DB_PATH: path.join(dbDir, 'base_de_donnees.db'),
    CUBE_DB: path.join(dbDir, 'cube_analytics.db'),
    KAFKA_TOPIC: `bench.population.${tag}`,
    KAFKA_GROUP_ID: `bench-consumer-${tag}`,
    LOG_LEVEL: 'info',
  };
  const config = loadConfig({ ...process.env, ...env });
  return {
    params,
    config,
    date: BENCH_DATE,
    tag,
    root,
    workDir,
    dataDir: path.join(workDir, 'data', `rows-${params.rows}-seed-${params.seed}-dirty-${params.dirty}`),
    dbDir,
    logDir,
    hdfsRawDir: env.HDFS_RAW_DIR,
    hdfsProcessedDir: env.HDFS_PROCESSED_DIR,
    hdfsAnchorDir: '/bench/anchor',
    env,
    topicsCreated: [],
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  };
}

/** A TypeScript CLI of the repo as a child with the bench environment plus `env`. */
export function task(
  ctx: BenchContext,
  label: string,
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Command {
  return { ...tsCommand(label, path.join(ctx.root, file), args, { ...ctx.env, ...env }), cwd: ctx.root };
}

export async function timed(ctx: BenchContext, command: Command): Promise<Timed> {
  const env = { ...ctx.env, ...command.env };
  const result = await runTimed({ cwd: ctx.root, ...command, env }, ctx.logDir);
  ensureSuccess(command, result);
  ctx.log(
    `${command.label}: ${result.seconds.toFixed(2)} s, peak RSS ${Math.round((result.peakRssKb ?? 0) / 1024)} MB`,
  );
  return result;
}

/** The last JSON line a task printed on stdout (its summary), or undefined. */
export function lastJsonLine(file: string): Record<string, unknown> | undefined {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}

export function kafkaOf(ctx: BenchContext) {
  return createKafka(ctx.config.kafka, { retries: 5 });
}

/** Creates a topic with the pipeline's partition count, remembered for cleanup. */
export async function createTopic(ctx: BenchContext, topic: string): Promise<void> {
  const admin = kafkaOf(ctx).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: ctx.config.kafka.partitions, replicationFactor: 1 }],
    });
    ctx.topicsCreated.push(topic);
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(ctx: BenchContext, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafkaOf(ctx).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/**
 * When `stage` is to be profiled: one extra, unmeasured run of `command` under node --cpu-prof
 * (forked workers inherit the flag), summarised into note lines: where the CPU time goes.
 */
export async function profileNotes(ctx: BenchContext, stage: string, command: Command): Promise<string[]> {
  if (!ctx.params.profile.includes(stage)) return [];
  const dir = path.join(ctx.workDir, 'prof', `${stage}-${ctx.tag}`);
  fs.mkdirSync(dir, { recursive: true });
  await timed(ctx, {
    ...command,
    label: `${command.label} (cpu-prof)`,
    args: ['--cpu-prof', '--cpu-prof-dir', dir, ...command.args],
  });
  const notes: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const s = summarizeProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, 8);
    // Skip threads that mostly waited: a parent of workers, the loader thread.
    const idle = s.byOwner.find((o) => o.name === '(native/gc/idle)')?.percent ?? 0;
    if (s.totalMs < 200 || idle > 80) continue;
    const fmt = (rows: { name: string; percent: number }[]) =>
      rows.map((r) => `${r.name} ${r.percent}%`).join(', ');
    notes.push(
      `profile ${path.relative(ctx.root, path.join(dir, file))} (${s.totalMs} ms sampled): by package/file: ${fmt(s.byOwner)}; top functions: ${fmt(s.byFunction.slice(0, 6))}`,
    );
  }
  return notes;
}
