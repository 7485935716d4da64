// The live mode end to end (SPEC 9: "a change in the source reaches the API within 60 s"): `npm run
// live` on the sample data for today's date, in an isolated environment (own topic, group, HDFS
// dirs, SQLite files, ports; HDFS_RAW_DIR stands for /data/raw). One neighborhood's population is
// changed in total-population.csv on HDFS and /api/income must show the new population and
// per-capita income within 60 s, with the followers' default intervals (producer 10 s, cubes 30 s).
// Then the consumer follower is SIGKILLed mid-stream; the supervisor restarts it; nothing is lost or
// duplicated (every event id in the topic stored once) and the cubes' freshness recovers.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HdfsClient } from '../../lib/hdfs.ts';
import { createKafka } from '../../lib/kafka.ts';
import { loadConfig, today } from '../../lib/config.ts';
import { readTopic } from '../fixtures/read-topic.ts';
import { deleteTopics } from './delete-topics.ts';
import { isolatedRun, REPO_DIR, run } from './pipeline-run.ts';

const DATE = today();
const iso = isolatedRun('live');
const env = { ...iso.env, LOG_LEVEL: 'info', PUSHGATEWAY_URL: '', API_WORKERS: '1' };
const config = loadConfig(env);
const pidFile = path.join(iso.varDir, 'live', 'pids.json');

let live: ChildProcess | undefined;
let liveOutput = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline || live?.exitCode != null) {
      throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${liveOutput.slice(-3000)}`);
    }
    await sleep(500);
  }
}

interface IncomeRow {
  neighborhood: string;
  population: number | null;
  aggregateIncome: number | null;
  perCapitaIncome: number | null;
}

async function income(apiPort: number): Promise<{ date: string; rows: IncomeRow[] } | undefined> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/api/income?limit=1000&date=${DATE}`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { data: IncomeRow[]; meta: { date: string } };
  return { date: body.meta.date, rows: body.data };
}

async function metric(port: number, name: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) });
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await res.text());
  const v = m ? Number(m[1]) : Number.NaN;
  return Number.isFinite(v) ? v : undefined;
}

const pids = (): Record<string, number> =>
  JSON.parse(fs.readFileSync(pidFile, 'utf8')) as Record<string, number>;

/** Every event id in the topic, read to the end offsets seen at the start. */
async function topicEventIds(topic: string): Promise<string[]> {
  return (await readTopic(createKafka(config.kafka), topic)).map(
    (m) => (JSON.parse(m.value) as { eventId: string }).eventId,
  );
}

afterAll(async () => {
  if (live && live.exitCode === null) {
    live.kill('SIGINT');
    await Promise.race([new Promise((r) => live!.once('exit', r)), sleep(40_000)]);
  }
  // Whatever survived a failed test.
  if (fs.existsSync(pidFile)) {
    for (const pid of Object.values(pids())) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await deleteTopics(config.kafka.brokers, [config.kafka.topic, config.kafka.dlqTopic]).catch(
    () => undefined,
  );
});

describe('npm run live', () => {
  it('a population change on HDFS reaches /api/income within 60 s; a SIGKILLed consumer follower loses and duplicates nothing', async () => {
    const [apiPort, consumerPort, cubePort] = [await freePort(), await freePort(), await freePort()];
    live = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/live/cli.ts',
        '--date',
        DATE,
        '--api-port',
        String(apiPort),
        '--consumer-metrics-port',
        String(consumerPort),
        '--cube-metrics-port',
        String(cubePort),
        '--upload',
      ],
      { cwd: REPO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.stdout!.on('data', (c: Buffer) => (liveOutput = (liveOutput + c.toString()).slice(-50_000)));
    live.stderr!.on('data', (c: Buffer) => (liveOutput = (liveOutput + c.toString()).slice(-50_000)));

    // 1. The sample for today is served.
    const first = await until(
      'the API serving the sample for today',
      async () => {
        const r = await income(apiPort);
        return r && r.date === DATE && r.rows.length === 91 ? r : undefined;
      },
      240_000,
    );
    const target = first.rows.find((r) => r.neighborhood === 'Allentown')!;
    expect(target.aggregateIncome).not.toBeNull();

    // 2. Allentown's population changes in the source on HDFS.
    const newPopulation = (target.population ?? 0) + 1234;
    const sample = fs.readFileSync(path.join(REPO_DIR, 'data/sample/total-population.csv'), 'utf8');
    const edited = sample.replace(/^Allentown,3,[^,]*,/m, `Allentown,3,${newPopulation},`);
    expect(edited).not.toBe(sample);
    const hdfs = HdfsClient.fromConfig(config.hdfs);
    await hdfs.writeAtomic(`${config.hdfs.rawDir}/total-population.csv`, edited);
    const changedAt = Date.now();
    const seen = await until(
      'the new population in /api/income',
      async () => {
        const row = (await income(apiPort))?.rows.find((r) => r.neighborhood === 'Allentown');
        return row?.population === newPopulation ? row : undefined;
      },
      90_000,
    );
    const seconds = (Date.now() - changedAt) / 1000;
    process.stderr.write(`[live e2e] source change visible in /api/income after ${seconds.toFixed(1)} s\n`);
    expect(seconds).toBeLessThan(60);
    expect(seen.aggregateIncome).toBe(target.aggregateIncome);
    expect(seen.perCapitaIncome).toBeCloseTo(target.aggregateIncome! / newPopulation, 6);

    // 3. SIGKILL of the consumer follower while the producer keeps sending; the supervisor restarts it.
    await sleep(3_000);
    const killed = pids().consumer!;
    process.kill(killed, 'SIGKILL');
    const killedAt = Date.now();
    await until(
      'the consumer follower restarted',
      async () => (pids().consumer !== killed ? true : undefined),
      60_000,
    );
    // Freshness recovers: a build after the restart, whose newest event is recent.
    const freshness = await until(
      'cube freshness back under 60 s after the restart',
      async () => {
        const builtAt = await metric(cubePort, 'pipeline_task_last_success_timestamp_seconds');
        const age = await metric(cubePort, 'cube_data_freshness_seconds');
        return builtAt !== undefined && builtAt * 1000 > killedAt + 10_000 && age !== undefined && age < 60
          ? age
          : undefined;
      },
      120_000,
    );
    process.stderr.write(`[live e2e] freshness after the consumer restart: ${freshness.toFixed(1)} s\n`);

    // 4. Ctrl-C stops everything cleanly.
    live.kill('SIGINT');
    const code = await new Promise<number | null>((r) => live!.once('exit', r));
    expect(code, liveOutput.slice(-3000)).toBe(0);
    expect(liveOutput).toMatch(/consumer exited \(SIGKILL\); restarting/);

    // 5. Nothing lost or duplicated: a bounded consumer run takes what the stopped follower had not
    // reached, then every event id of the topic is stored exactly once.
    const drain = await run(
      process.execPath,
      ['--import', 'tsx', 'tasks/consumer/cli.ts', '--date', DATE],
      env,
    );
    expect(drain.code, drain.stderr).toBe(0);
    const produced = await topicEventIds(config.kafka.topic);
    const db = new Database(config.sqlite.dbPath, { readonly: true });
    const stored = db.prepare('SELECT event_id FROM events').pluck().all() as string[];
    const deadLetters = db.prepare('SELECT count(*) FROM dead_letters').pluck().get() as number;
    db.close();
    expect(new Set(produced).size).toBe(produced.length);
    expect(deadLetters).toBe(0);
    expect(stored.length).toBe(produced.length);
    expect(new Set(stored)).toEqual(new Set(produced));
  }, 600_000);
});
