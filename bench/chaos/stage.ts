// The stage the faults play on: generated input files, their upload to the chaos run's HDFS dir,
// produced topics, the consumer's SQLite file and what it has committed, the joined file's hashes,
// and a broker outage that always brings the broker back.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { SOURCES, SOURCE_NAMES } from '../../lib/sources.ts';
import { sleep, type ChaosContext } from './context.ts';
import { acknowledged, hdfsHash, readTopicEvents, storedEvents } from './observe.ts';
import { stackUp, stopService } from './stack-control.ts';
import { PRODUCER, runToEnd } from './tasks.ts';
import { eventTallies, type Tally } from './verify.ts';

/** Small fetches keep a consumer fetching all along (the default 2 MiB takes a --short partition at once). */
export const CONSUME_FETCH_BYTES = 64 * 1024;
/** A stop that misses the work in flight (task done first, or not yet begun) is repeated. */
export const BROKER_TRIES = 3;

export async function ensureData(ctx: ChaosContext, name: string, rows: number): Promise<string> {
  const dir = path.join(ctx.work, 'data', `${name}-${rows}`);
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    const code = await runToEnd(ctx, `generate ${name}`, 'scripts/generate/cli.ts', [
      '--rows',
      String(rows),
      '--out',
      dir,
      '--seed',
      `chaos-${name}`,
      '--quiet',
    ]);
    if (code !== 0) throw new Error(`generator failed for ${name}`);
    fs.writeFileSync(path.join(dir, '.complete'), '');
  }
  return dir;
}

export async function upload(ctx: ChaosContext, dir: string): Promise<void> {
  await ctx.hdfs.mkdirs(ctx.rawDir);
  for (const name of SOURCE_NAMES) {
    await ctx.hdfs.writeAtomic(
      `${ctx.rawDir}/${SOURCES[name].file}`,
      fs.createReadStream(path.join(dir, SOURCES[name].file)),
    );
  }
}

/** Hashes of the dated joined file and of the latest copy (undefined: absent). */
export async function joinedHashes(ctx: ChaosContext): Promise<[string | undefined, string | undefined]> {
  return [
    await hdfsHash(ctx.hdfs, `${ctx.processedDir}/date=${ctx.date}/all_data_joined.csv`),
    await hdfsHash(ctx.hdfs, `${ctx.processedDir}/all_data_joined.csv`),
  ];
}

export function freshDb(ctx: ChaosContext, name: string): string {
  const db = path.join(ctx.work, `${name}-${ctx.tag}.db`);
  for (const s of ['', '-wal', '-shm']) fs.rmSync(`${db}${s}`, { force: true });
  return db;
}

export const consumerArgs = (ctx: ChaosContext, topic: string, db: string, group: string): string[] => [
  '--date',
  ctx.date,
  '--topic',
  topic,
  '--db',
  db,
  '--group',
  group,
];

export async function produce(ctx: ChaosContext, topic: string, population: string, loops: number) {
  const args = ['--file', population, '--loops', String(loops), '--topic', topic, '--date', ctx.date];
  if ((await runToEnd(ctx, `produce ${topic}`, PRODUCER, args)) !== 0)
    throw new Error(`producer failed for ${topic}`);
}

export async function verifyConsumed(
  ctx: ChaosContext,
  topic: string,
  db: string,
): Promise<{ tally: Tally; deadLetters: number }> {
  const expected = await readTopicEvents(ctx.kafka, topic, `chaos-reader-${ctx.tag}-${topic}`);
  const { events, deadLetters } = storedEvents(db, ctx.date);
  return { tally: eventTallies(expected, events), deadLetters };
}

/** Messages committed so far by a group (sum of its stored next offsets), 0 before the first commit. */
export function committed(db: string, group: string): number {
  if (!fs.existsSync(db)) return 0;
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (
        (conn
          .prepare('SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets WHERE group_id = ?')
          .pluck()
          .get(group) as number) ?? 0
      );
    } finally {
      conn.close();
    }
  } catch {
    return 0; // schema not created yet
  }
}

/** Data lines of a CSV (its header excluded): the messages one producer loop plans to send. */
export function dataLines(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return lines - (text.endsWith('\n') ? 1 : 0);
}

/**
 * Sum of a topic's end offsets, through a short-lived admin client. Retried for a while: right after
 * a broker restart a partition can still be without a leader (kafkajs' admin does not wait for one).
 */
export async function topicSize(ctx: ChaosContext, topic: string, attempts = 30): Promise<number> {
  for (let i = 1; ; i++) {
    const admin = ctx.kafka.admin();
    try {
      await admin.connect();
      return await acknowledged(admin, topic);
    } catch (err) {
      if (i >= attempts) throw err;
    } finally {
      await admin.disconnect();
    }
    await sleep(1000);
  }
}

/** Brings the shared stack back up (whatever a fault left stopped); resolves with the seconds it took. */
export function restoreStack(ctx: ChaosContext): Promise<number> {
  return stackUp(ctx.root, path.join(ctx.logs, 'stack-up.log'));
}

/**
 * Stops the broker and brings it back at once, also when the stop failed (the stack is shared and
 * other work waits on it). Resolves with the seconds from the stop signal to a ready broker.
 */
export async function brokerOutage(ctx: ChaosContext): Promise<number> {
  const started = Date.now();
  try {
    await stopService(ctx.root, 'kafka', ctx.signal);
  } finally {
    await restoreStack(ctx);
  }
  return (Date.now() - started) / 1000;
}
