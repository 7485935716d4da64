// Integration: the real producer and consumer CLIs against the real Kafka and SQLite files. Each
// test uses its own topics, group and database, so tests and other users of the broker never meet.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { readTopic as readTopicMessages } from '../../test/fixtures/read-topic.ts';
import { createKafka, ensureTopic } from '../../lib/kafka.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const DATE = '2026-11-28';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-int-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(
  task: 'producer' | 'consumer',
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(TSX, [path.join(ROOT, `tasks/${task}/cli.ts`), ...args], {
    cwd: ROOT,
    env: { ...process.env, PUSHGATEWAY_URL: '', LOG_LEVEL: 'warn', RUN_DATE: DATE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const run = (task: 'producer' | 'consumer', args: string[], env: Record<string, string>) =>
  start(task, args, env).done;

/** The run exited 0 and its summary (stdout, one JSON line) has `expected`'s fields. */
function expectSummary(r: Run, expected: Record<string, unknown>): void {
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject(expected);
}

/** A scenario: its own topic, DLQ, group, database, population CSV and joined directory. */
function scenario(name: string, ids: number) {
  const suffix = `${name}_${randomBytes(4).toString('hex')}`;
  const dir = path.join(work, suffix);
  fs.mkdirSync(path.join(dir, `joined/date=${DATE}`), { recursive: true });
  const csv = ['Neighborhood,Id,Estimate; Total,Margin of Error; Total'];
  const joined = ['id,neighborhood,income_estimate_total,income_margin_of_error_total'];
  for (let id = 1; id <= ids; id++) {
    csv.push(`Neighborhood ${id},${id},${1000 + id},${(id % 97) + 0.5}`);
    joined.push(`${id},Neighborhood ${id},${id * 100},${id % 13}`);
  }
  fs.writeFileSync(path.join(dir, 'total-population.csv'), `${csv.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, `joined/date=${DATE}/all_data_joined.csv`), `${joined.join('\n')}\n`);
  const topic = `t_consumer_${suffix}`;
  return {
    dir,
    topic,
    dlqTopic: `${topic}.dlq`,
    db: path.join(dir, 'base_de_donnees.db'),
    env: {
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_GROUP_ID: `g_${suffix}`,
      DB_PATH: path.join(dir, 'base_de_donnees.db'),
    },
    consumerArgs: ['--joined-dir', path.join(dir, 'joined')],
    csv: path.join(dir, 'total-population.csv'),
  };
}

function kafka() {
  return createKafka(loadConfig().kafka);
}

/** Every message of a topic, read to the end offsets seen at the start. */
const readTopic = (topic: string) => readTopicMessages(kafka(), topic);

function openDb(file: string) {
  return new Database(file, { readonly: true });
}

describe('consumer against the real Kafka and SQLite', () => {
  it('bounded run stores exactly what was produced, enriched, with the latest event per Id', async () => {
    const s = scenario('bounded', 300);
    const p = await run('producer', ['--file', s.csv, '--loops', '2'], s.env);
    expectSummary(p, { produced: 600, rejects: 0, loops: 2 });

    const c = await run('consumer', s.consumerArgs, s.env);
    expectSummary(c, {
      mode: 'bounded',
      stored: 600,
      deadLetters: 0,
      duplicates: 0,
    });

    const db = openDb(s.db);
    const produced = (await readTopic(s.topic)).map((m) => JSON.parse(m.value).eventId as string).sort();
    const stored = db.prepare('SELECT event_id FROM events ORDER BY event_id').pluck().all() as string[];
    expect(stored).toEqual(produced);
    expect(db.prepare('SELECT count(*) FROM donnees_formatees').pluck().get()).toBe(600);
    const latest = db.prepare('SELECT loop, count(*) AS n FROM donnees_formatees_latest GROUP BY loop').all();
    expect(latest).toEqual([{ loop: 2, n: 300 }]);
    expect(
      db.prepare('SELECT income_estimate_total FROM donnees_formatees_latest WHERE id = 7').pluck().get(),
    ).toBe(700);
    db.close();

    // A second bounded run finds nothing new and changes nothing.
    const again = await run('consumer', s.consumerArgs, s.env);
    expectSummary(again, { stored: 0 });
  });

  it('exactly once: 200k messages, the consumer SIGKILLed at random points, nothing lost or doubled', async () => {
    const s = scenario('chaos', 50_000);
    const p = await run('producer', ['--file', s.csv, '--loops', '4'], s.env);
    expectSummary(p, { produced: 200_000 });

    // Kill points: one random stored-offset target inside each seventh of the stream, so at least
    // five SIGKILLs land mid-stream whatever the machine's speed; small fetches keep batches small.
    const total = 200_000;
    const storedSoFar = (): number => {
      if (!fs.existsSync(s.db)) return 0;
      const db = new Database(s.db);
      try {
        const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'kafka_offsets'").get();
        return hasTable
          ? ((db
              .prepare('SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets')
              .pluck()
              .get() as number) ?? 0)
          : 0;
      } finally {
        db.close();
      }
    };
    let kills = 0;
    for (let k = 1; k <= 6; k++) {
      const target = Math.floor(((k + Math.random()) * total) / 7);
      const c = start('consumer', [...s.consumerArgs, '--max-bytes-per-partition', String(64 * 1024)], s.env);
      let exited = false;
      void c.done.then(() => (exited = true));
      while (!exited && storedSoFar() < target) await new Promise((r) => setTimeout(r, 20));
      if (!exited) c.child.kill('SIGKILL');
      const r = await c.done;
      if (r.signal === 'SIGKILL') kills++;
      else expect(r.code, r.stderr).toBe(0);
    }
    expect(kills).toBeGreaterThanOrEqual(5);
    const last = await run('consumer', s.consumerArgs, s.env);
    expect(last.code, last.stderr).toBe(0);

    const messages = await readTopic(s.topic);
    expect(messages).toHaveLength(200_000);
    const db = openDb(s.db);
    const stored = db.prepare('SELECT event_id FROM events ORDER BY event_id').pluck().all() as string[];
    const produced = messages.map((m) => JSON.parse(m.value).eventId as string).sort();
    expect(stored.length).toBe(200_000);
    expect(stored).toEqual(produced);
    // Every (partition, offset) once, and the stored offsets are the end offsets.
    expect(
      db.prepare("SELECT count(DISTINCT kafka_partition || ':' || kafka_offset) FROM events").pluck().get(),
    ).toBe(200_000);
    const offsets = db.prepare('SELECT sum(next_offset) FROM kafka_offsets').pluck().get();
    expect(offsets).toBe(200_000);
    expect(db.prepare('SELECT count(*) FROM latest_events').pluck().get()).toBe(50_000);
    expect(db.prepare('SELECT count(*) FROM latest_events WHERE loop <> 4').pluck().get()).toBe(0);
    db.close();
  });

  it('two consumers in one group store the same as one, without loss or duplicates', async () => {
    const s = scenario('group', 20_000);
    const p = await run('producer', ['--file', s.csv, '--loops', '3'], s.env);
    expect(p.code, p.stderr).toBe(0);
    const [a, b] = await Promise.all([
      run('consumer', [...s.consumerArgs, '--max-bytes-per-partition', String(128 * 1024)], s.env),
      run('consumer', [...s.consumerArgs, '--max-bytes-per-partition', String(128 * 1024)], s.env),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const sa = JSON.parse(a.stdout);
    const sb = JSON.parse(b.stdout);
    expect(sa.stored + sb.stored).toBe(60_000);

    const one = scenario('group_single', 1);
    // The same messages consumed by a single consumer into another database: same result.
    const single = await run('consumer', s.consumerArgs, {
      ...s.env,
      KAFKA_GROUP_ID: `${s.env.KAFKA_GROUP_ID}_single`,
      DB_PATH: one.db,
    });
    expect(single.code, single.stderr).toBe(0);
    const ids = (file: string) => {
      const db = openDb(file);
      const r = db.prepare('SELECT event_id FROM events ORDER BY event_id').pluck().all();
      const latest = db.prepare('SELECT date, id, event_id FROM latest_events ORDER BY date, id').all();
      db.close();
      return { r, latest };
    };
    const group = ids(s.db);
    expect(group.r).toHaveLength(60_000);
    expect(group).toEqual(ids(one.db));
  });

  it('--workers 2 shares the partitions and stores everything once', async () => {
    const s = scenario('workers', 10_000);
    expect((await run('producer', ['--file', s.csv, '--loops', '2'], s.env)).code).toBe(0);
    const c = await run('consumer', [...s.consumerArgs, '--workers', '2'], s.env);
    expectSummary(c, { stored: 20_000, deadLetters: 0 });
    const db = openDb(s.db);
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(20_000);
    db.close();
  });

  it('--workers 2: a joined file that fails to load fails the run, naming its line, and stops the workers held for it (nothing committed)', async () => {
    const s = scenario('workers_bad_joined', 10_000);
    expect((await run('producer', ['--file', s.csv, '--loops', '1'], s.env)).code).toBe(0);
    const joinedFile = path.join(s.dir, `joined/date=${DATE}/all_data_joined.csv`);
    const lines = fs.readFileSync(joinedFile, 'utf8').split('\n');
    lines[8000] = '8000,"Neighbor"hood 8000,800000,5';
    fs.writeFileSync(joinedFile, lines.join('\n'));
    const c = await run('consumer', [...s.consumerArgs, '--workers', '2'], s.env);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain('joined-attributes loader failed');
    expect(c.stderr).toMatch(/all_data_joined\.csv: line 8001: malformed CSV/);
    const db = openDb(s.db);
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM kafka_offsets').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM joined_attributes').pluck().get()).toBe(0);
    db.close();
  });

  it('sends non-JSON, wrong-typed, oversized and unmatched messages to the DLQ with reasons, keeping the good ones', async () => {
    const s = scenario('dlq', 10);
    const k = kafka();
    const admin = k.admin();
    await admin.connect();
    await ensureTopic(admin, s.topic, 3);
    await admin.disconnect();
    const good = (id: number, n: number) =>
      JSON.stringify({
        eventId: `good-${id}-${n}`,
        date: DATE,
        loop: 1,
        id,
        neighborhood: `Neighborhood ${id}`,
        population_estimate_total: 10,
        population_margin_of_error_total: 1.5,
        producedAt: new Date().toISOString(),
      });
    const producer = k.producer();
    await producer.connect();
    await producer.send({
      topic: s.topic,
      messages: [
        { key: '1', value: good(1, 1) },
        { key: '1', value: '{not json' },
        { key: '2', value: good(2, 1) },
        { key: '3', value: JSON.stringify({ ...JSON.parse(good(3, 1)), population_estimate_total: 'many' }) },
        { key: '4', value: JSON.stringify({ ...JSON.parse(good(4, 1)), neighborhood: 'x'.repeat(5000) }) },
        { key: '999', value: good(999, 1).replace('good-999', 'unmatched') },
        { key: '5', value: good(5, 1) },
        { key: '6', value: JSON.stringify({ ...JSON.parse(good(6, 1)), date: '2026-02-30' }) },
      ],
    });
    await producer.disconnect();

    const c = await run('consumer', s.consumerArgs, s.env);
    expect(c.code, c.stderr).toBe(0);
    const summary = JSON.parse(c.stdout);
    expect(summary).toMatchObject({
      stored: 3,
      deadLetters: 5,
      rejectsByReason: { invalid_json: 1, schema_mismatch: 2, oversized: 1, unmatched_id: 1 },
    });
    const db = openDb(s.db);
    expect(db.prepare('SELECT event_id FROM events ORDER BY event_id').pluck().all()).toEqual([
      'good-1-1',
      'good-2-1',
      'good-5-1',
    ]);
    expect(db.prepare('SELECT reason FROM dead_letters ORDER BY reason').pluck().all()).toEqual([
      'invalid_json',
      'oversized',
      'schema_mismatch',
      'schema_mismatch',
      'unmatched_id',
    ]);
    db.close();
    const dlq = (await readTopic(s.dlqTopic)).map((m) => JSON.parse(m.value));
    expect(dlq.map((d) => d.reason).sort()).toEqual([
      'invalid_json',
      'oversized',
      'schema_mismatch',
      'schema_mismatch',
      'unmatched_id',
    ]);
    expect(dlq.find((d) => d.value.includes('2026-02-30')).detail).toBe(
      'date must be a calendar date YYYY-MM-DD',
    );
    for (const d of dlq) {
      expect(d).toMatchObject({
        topic: s.topic,
        detail: expect.any(String),
        partition: expect.any(Number),
        offset: expect.any(String),
      });
    }
    expect(dlq.find((d) => d.reason === 'invalid_json').value).toBe('{not json');
  });

  it('--follow enriches a date without a joined file from the latest one; bounded mode dead-letters it naming the missing file', async () => {
    const s = scenario('fallback', 50);
    const other = '2026-12-01'; // no joined/date=2026-12-01/ directory
    const latest = fs
      .readFileSync(path.join(s.dir, `joined/date=${DATE}/all_data_joined.csv`), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('50,')) // Id 50 really is missing from the latest file
      .join('\n');
    fs.writeFileSync(path.join(s.dir, 'joined/all_data_joined.csv'), latest);
    const p = await run('producer', ['--file', s.csv, '--date', other], s.env);
    expect(p.code, p.stderr).toBe(0);

    // Bounded (the DAG's mode): no fallback, every message says the date's file is missing.
    const bounded = await run(
      'consumer',
      [...s.consumerArgs, '--date', other, '--group', `${s.env.KAFKA_GROUP_ID}_b`],
      {
        ...s.env,
        DB_PATH: path.join(s.dir, 'bounded.db'),
      },
    );
    expectSummary(bounded, {
      stored: 0,
      deadLetters: 50,
      rejectsByReason: { missing_joined_file: 50 },
    });

    // Follow: enriched from the latest file, counted; Id 50 is a real unmatched_id.
    const follower = start(
      'consumer',
      [...s.consumerArgs, '--date', other, '--follow', '--metrics-port', '0'],
      s.env,
    );
    const deadline = Date.now() + 60_000;
    let stored = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      if (!fs.existsSync(s.db)) continue;
      const db = openDb(s.db);
      try {
        stored = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
        const dead = db.prepare('SELECT count(*) FROM dead_letters').pluck().get() as number;
        if (stored + dead >= 50) break;
      } catch {
        // tables not created yet
      } finally {
        db.close();
      }
    }
    follower.child.kill('SIGTERM');
    const f = await follower.done;
    expectSummary(f, {
      mode: 'follow',
      stored: 49,
      joinedFallback: 49,
      deadLetters: 1,
      rejectsByReason: { unmatched_id: 1 },
    });
    const db = openDb(s.db);
    expect(
      db
        .prepare('SELECT income_estimate_total FROM donnees_formatees_latest WHERE date = ? AND id = 7')
        .pluck()
        .get(other),
    ).toBe(700);
    expect(db.prepare('SELECT reason, detail FROM dead_letters').all()).toEqual([
      { reason: 'unmatched_id', detail: `id 50 has no row in the joined attributes of date ${other}` },
    ]);
    expect(db.prepare('SELECT source FROM joined_loads WHERE date = ?').pluck().get(other)).toMatch(
      /^latest:/,
    );
    db.close();
  });

  it('an unreachable broker gives one line naming the address, exit != 0 and no output', async () => {
    const s = scenario('down', 1);
    const env = { ...s.env, KAFKA_BROKERS: '127.0.0.1:1' };
    const started = Date.now();
    const c = await run('consumer', s.consumerArgs, env);
    expect(c.code).not.toBe(0);
    expect(c.stdout).toBe('');
    const lines = c.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/127\.0\.0\.1:1/);
    expect(fs.existsSync(s.db)).toBe(false);
    const p = await run('producer', ['--file', s.csv], env);
    expect(p.code).not.toBe(0);
    expect(p.stdout).toBe('');
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
