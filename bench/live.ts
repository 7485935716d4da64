// The live stage of the bench: the three followers of `npm run live` against the bench's data (250k
// Ids by default), the producer with --interval 0 (resend as fast as it can), for a fixed window
// after the first cube build. Sampled every 5 s: messages produced (topic end offsets) and consumed
// (the consumer's /metrics), consumer lag, cube rebuild time and the served cubes' freshness (the
// cube follower's /metrics). SPEC 9's live bar: a change reaches the API within 60 s, so the worst
// freshness seen must stay under 60 s.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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
    consumed: (last.consumed ?? 0) - (first.consumed ?? 0),
    producedPerSecond: seconds > 0 ? (last.produced - first.produced) / seconds : 0,
    consumedPerSecond: seconds > 0 ? ((last.consumed ?? 0) - (first.consumed ?? 0)) / seconds : 0,
    lagMax: lags.length ? Math.max(...lags) : undefined,
    lagLast: lags.at(-1),
    freshnessMedian: freshness.length ? median(freshness) : undefined,
    freshnessWorst: freshness.length ? Math.max(...freshness) : undefined,
    builds: (last.builds ?? 0) - (first.builds ?? 0),
    buildSecondsMedian: buildTimes.length ? median(buildTimes) : undefined,
  };
}

async function text(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchLive(ctx: BenchContext, windowSeconds: number): Promise<StageResult> {
  const topic = `bench.live.${ctx.tag}`;
  await createTopic(ctx, topic);
  await createTopic(ctx, `${topic}.dlq`);
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
    start('producer', 'tasks/producer/cli.ts', ['--follow', '--interval', '0', '--date', ctx.date]),
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
  const sample = async (): Promise<LiveSample> => {
    const offsets = await admin.fetchTopicOffsets(topic);
    const [consumer, cube] = await Promise.all([
      text(`http://127.0.0.1:${CONSUMER_PORT}/metrics`),
      text(`http://127.0.0.1:${CUBE_PORT}/metrics`),
    ]);
    const consumed = consumer
      ? (metricValue(consumer, 'processed_messages_total') ?? 0) +
        (metricValue(consumer, 'processing_errors_total') ?? 0)
      : undefined;
    return {
      at: Date.now(),
      produced: offsets.reduce((n, o) => n + Number(o.high), 0),
      ...(consumed !== undefined ? { consumed, lag: metricValue(consumer!, 'consumer_lag') ?? 0 } : {}),
      ...(cube
        ? {
            freshness: metricValue(cube, 'cube_data_freshness_seconds'),
            builds: metricValue(cube, 'compute_cube_follow_checks_total', 'result="built"') ?? 0,
            buildSeconds: metricValue(cube, 'compute_cube_duration_seconds', 'phase="total"'),
          }
        : {}),
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
        `live (${ctx.params.rows.toLocaleString('en-US')} Ids, producer --interval 0, cubes --interval 30s, ${Math.round(s.seconds)} s after the first build, sampled every ${SAMPLE_MS / 1000} s): produced ${fmt(s.producedPerSecond)} msg/s, consumed ${fmt(s.consumedPerSecond)} msg/s; consumer lag max ${fmt(s.lagMax)}, last ${fmt(s.lagLast)}; ${s.builds} cube rebuilds, median ${fmt(s.buildSecondsMedian, 1)} s; freshness of the served cubes median ${fmt(s.freshnessMedian, 1)} s, worst ${fmt(s.freshnessWorst, 1)} s.`,
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
