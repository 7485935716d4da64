// The live stage of the bench: the three followers of `npm run live` against the bench's data (250k
// Ids by default), the producer at `npm run live`'s --interval (10 s between loop starts: every Id
// resent each 10 s; --live-interval 0 resends as fast as it can, an overload in which the lag grows
// without bound on 2 cores), for a fixed window after the first cube build. Sampled every 5 s from
// the sources of truth, which answer even when a busy follower's /metrics does not: messages produced
// (topic end offsets), consumed (the consumer's kafka_offsets in SQLite), lag (their difference),
// cube builds and the served cubes' freshness (cube_runs of the cube file: now minus
// newest_event_at); the rebuild time from the cube follower's /metrics. SPEC 9's live bar: a change
// reaches the API within 60 s, so the worst freshness seen must stay under 60 s.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fetchText } from '../lib/http.ts';
import { createTopic, kafkaOf, type BenchContext } from './context.ts';
import type { StageResult } from './report.ts';
import { median } from './stats.ts';
import { SPEC_TARGETS } from './targets.ts';

const CONSUMER_PORT = 19_464;
const CUBE_PORT = 19_465;
const SAMPLE_MS = 5_000;

/** One value of a metric in a Prometheus text exposition (summed over label sets matching `labels`). */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  let total: number | undefined;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if (labels && !(m[1] ?? '').includes(labels)) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) total = (total ?? 0) + v;
  }
  return total;
}

export interface LiveSample {
  at: number;
  produced: number;
  consumed?: number;
  lag?: number;
  freshness?: number;
  builds?: number;
  buildSeconds?: number;
}

/** Pure: steady-state rates over the window, lag and freshness statistics, rebuild times. */
export function summarizeLive(samples: readonly LiveSample[]) {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.at - first.at) / 1000;
  // Rates over the samples that have the value (a source may not answer in one of them).
  const over = (key: 'consumed' | 'builds') => {
    const have = samples.filter((x) => x[key] !== undefined);
    const a = have[0];
    const b = have[have.length - 1];
    if (!a || !b || b.at <= a.at) return { delta: 0, perSecond: 0 };
    const delta = b[key]! - a[key]!;
    return { delta, perSecond: delta / ((b.at - a.at) / 1000) };
  };
  const consumed = over('consumed');
  const lags = samples.map((s) => s.lag).filter((v): v is number => v !== undefined);
  const freshness = samples.map((s) => s.freshness).filter((v): v is number => v !== undefined);
  const buildTimes: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    if ((s.builds ?? 0) > (samples[i - 1]!.builds ?? 0) && s.buildSeconds !== undefined)
      buildTimes.push(s.buildSeconds);
  }
  return {
    seconds,
    produced: last.produced - first.produced,
    consumed: consumed.delta,
    producedPerSecond: seconds > 0 ? (last.produced - first.produced) / seconds : 0,
    consumedPerSecond: consumed.perSecond,
    lagMax: lags.length ? Math.max(...lags) : undefined,
    lagLast: lags.at(-1),
    freshnessMedian: freshness.length ? median(freshness) : undefined,
    freshnessWorst: freshness.length ? Math.max(...freshness) : undefined,
    builds: over('builds').delta,
    buildSecondsMedian: buildTimes.length ? median(buildTimes) : undefined,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchLive(
  ctx: BenchContext,
  windowSeconds: number,
  producerInterval: string,
): Promise<StageResult> {
  const topic = `bench.live.${ctx.tag}`;
  await createTopic(ctx, topic);
  const db = path.join(ctx.dbDir, 'live.db');
  const cubeDb = path.join(ctx.dbDir, 'live-cube.db');
  for (const f of [db, `${db}-wal`, `${db}-shm`, cubeDb]) fs.rmSync(f, { force: true });
  const env = {
    ...process.env,
    ...ctx.env,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: `bench-live-${ctx.tag}`,
    DB_PATH: db,
    CUBE_DB: cubeDb,
    PUSHGATEWAY_URL: '',
  };
  const start = (name: string, file: string, args: string[]): ChildProcess => {
    const log = fs.openSync(path.join(ctx.logDir, `live-${name}.log`), 'a');
    return spawn(process.execPath, ['--import', 'tsx', path.join(ctx.root, file), ...args], {
      cwd: ctx.root,
      env,
      stdio: ['ignore', log, log],
    });
  };
  const children = [
    start('producer', 'tasks/producer/cli.ts', [
      '--follow',
      '--interval',
      producerInterval,
      '--date',
      ctx.date,
    ]),
    start('consumer', 'tasks/consumer/cli.ts', [
      '--follow',
      '--date',
      ctx.date,
      '--metrics-port',
      String(CONSUMER_PORT),
    ]),
    start('compute-cube', 'tasks/compute-cube/cli.ts', [
      ...['--follow', '--date', ctx.date, '--interval', '30s', '--metrics-port', String(CUBE_PORT)],
    ]),
  ];
  const admin = kafkaOf(ctx).admin();
  await admin.connect();
  const group = env.KAFKA_GROUP_ID;
  const readDb = <T>(file: string, read: (db: Database.Database) => T): T | undefined => {
    if (!fs.existsSync(file)) return undefined;
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        return read(db);
      } finally {
        db.close();
      }
    } catch {
      return undefined; // not created yet, or swapped while opening
    }
  };
  const sample = async (): Promise<LiveSample> => {
    const offsets = await admin.fetchTopicOffsets(topic);
    const produced = offsets.reduce((n, o) => n + Number(o.high), 0);
    const consumed = readDb(db, (d) =>
      Number(
        d
          .prepare('SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets WHERE group_id = ? AND topic = ?')
          .pluck()
          .get(group, topic),
      ),
    );
    const served = readDb(cubeDb, (d) => ({
      builds: Number(d.prepare('SELECT count(*) FROM cube_runs WHERE date = ?').pluck().get(ctx.date)),
      newest: d
        .prepare('SELECT newest_event_at FROM cube_runs WHERE date = ? ORDER BY built_at DESC LIMIT 1')
        .pluck()
        .get(ctx.date) as string | null | undefined,
    }));
    const cube = await fetchText(`http://127.0.0.1:${CUBE_PORT}/metrics`, 4000);
    const at = Date.now();
    return {
      at,
      produced,
      ...(consumed !== undefined ? { consumed, lag: produced - consumed } : {}),
      ...(served ? { builds: served.builds } : {}),
      ...(served?.newest ? { freshness: (at - Date.parse(served.newest)) / 1000 } : {}),
      ...(cube ? { buildSeconds: metricValue(cube, 'compute_cube_duration_seconds', 'phase="total"') } : {}),
    };
  };
  try {
    // Warm-up: start-up, the consumer's load of the date's joined attributes, the first cube build.
    const warmupDeadline = Date.now() + 300_000;
    for (;;) {
      const s = await sample();
      if ((s.builds ?? 0) >= 1) break;
      if (children.some((c) => c.exitCode !== null))
        throw new Error(`a live follower exited during warm-up (logs: ${ctx.logDir}/live-*.log)`);
      if (Date.now() > warmupDeadline) throw new Error('no cube build within 5 minutes of the start');
      await sleep(2_000);
    }
    ctx.log(`live: first cube build done; measuring ${windowSeconds} s`);
    const samples: LiveSample[] = [];
    const end = Date.now() + windowSeconds * 1000;
    while (Date.now() <= end) {
      samples.push(await sample());
      await sleep(SAMPLE_MS);
    }
    samples.push(await sample());
    const s = summarizeLive(samples);
    const fmt = (v: number | undefined, digits = 0) => (v === undefined ? '-' : v.toFixed(digits));
    ctx.log(`live: ${JSON.stringify(s)}`);
    return {
      stage: 'live',
      ours: {
        name: 'live followers (consumed)',
        rows: Math.round(s.consumed),
        samples: [{ seconds: s.seconds }],
      },
      target: SPEC_TARGETS.live,
      live: { worstFreshnessSeconds: s.freshnessWorst ?? Number.POSITIVE_INFINITY },
      notes: [
        `live (${ctx.params.rows.toLocaleString('en-US')} Ids, producer --interval ${producerInterval}, cubes --interval 30s, ${Math.round(s.seconds)} s after the first build, sampled every ${SAMPLE_MS / 1000} s): produced ${fmt(s.producedPerSecond)} msg/s, consumed ${fmt(s.consumedPerSecond)} msg/s; consumer lag max ${fmt(s.lagMax)}, last ${fmt(s.lagLast)}; ${s.builds} cube rebuilds, median ${fmt(s.buildSecondsMedian, 1)} s; freshness of the served cubes median ${fmt(s.freshnessMedian, 1)} s, worst ${fmt(s.freshnessWorst, 1)} s.`,
      ],
    };
  } finally {
    await admin.disconnect();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
    );
  }
}
