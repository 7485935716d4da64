// The bench stages: each runs our task and its anchor `runs` times on the same data and stack and
// returns a StageResult. Order matters: data -> transform (joined file for the consumer) -> producer
// (topic for the consumer) -> consumer (db for compute-cube) -> compute-cube (cube db for the API) -> API.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseWorkers } from '../api/primary.ts';
import { HdfsClient } from '../lib/hdfs.ts';
import { recordResponse } from './anchors/replay-server.ts';
import { SOURCES, SOURCE_NAMES } from '../lib/sources.ts';
import { loadTest, waitForHttp, type LoadResult } from './api-load.ts';
import { createTopic, lastJsonLine, profileNotes, task, timed, type BenchContext } from './context.ts';
import {
  consumerPerfCommand,
  parseConsumerPerf,
  parseProducerPerf,
  producerPerfCommand,
  KAFKA_CLASS_SCRIPT,
} from './kafka-perf.ts';
import type { Sample, StageResult } from './report.ts';
import { median } from './stats.ts';
import { sampleTreeRss, type Command, type Timed } from './spawn.ts';
import { MEMORY_BOUNDS_MB, SPEC_TARGETS } from './targets.ts';

const sample = (t: Timed): Sample => ({ seconds: t.seconds, peakRssKb: t.peakRssKb });
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** The runs of one stage, ours and its anchor's, and the notes they leave; `result` is the StageResult. */
class StageRuns {
  readonly ours: Sample[] = [];
  readonly anchor: Sample[] = [];
  readonly notes: string[] = [];

  constructor(private readonly ctx: BenchContext) {}

  /** Times one run of our task and keeps its sample. */
  async ourRun(command: Command): Promise<Timed> {
    const t = await timed(this.ctx, command);
    this.ours.push(sample(t));
    return t;
  }

  /** Times one run of the anchor and keeps its sample. */
  async anchorRun(command: Command): Promise<Timed> {
    const t = await timed(this.ctx, command);
    this.anchor.push(sample(t));
    return t;
  }

  /** One more run of ours under the CPU profiler when `--profile` names the stage: its notes. */
  async profile(stage: string, command: Command): Promise<void> {
    this.notes.push(...(await profileNotes(this.ctx, stage, command)));
  }

  /** The stage `stage` (ours has that name) over `rows` rows, with its SPEC target and memory bound. */
  result(
    stage: string,
    bounds: keyof typeof MEMORY_BOUNDS_MB,
    rows: number,
    anchorName: string,
  ): StageResult {
    return {
      stage,
      ours: { name: stage, rows, samples: this.ours },
      anchor: { name: anchorName, rows, samples: this.anchor },
      target: SPEC_TARGETS[bounds],
      memoryBoundMb: MEMORY_BOUNDS_MB[bounds],
      notes: this.notes,
    };
  }
}

/** Generates the population once per (rows, seed, dirt) and uploads the sources to the bench's HDFS dir. */
export async function prepareData(ctx: BenchContext): Promise<void> {
  const marker = path.join(ctx.dataDir, '.complete');
  if (!fs.existsSync(marker)) {
    const { rows, seed, dirty } = ctx.params;
    await timed(
      ctx,
      task(ctx, 'generate', 'scripts/generate/cli.ts', [
        '--rows',
        String(rows),
        '--out',
        ctx.dataDir,
        '--seed',
        seed,
        '--dirty',
        String(dirty),
        '--quiet',
      ]),
    );
    fs.writeFileSync(marker, new Date().toISOString());
  }
  const hdfs = HdfsClient.fromConfig(ctx.config.hdfs);
  await hdfs.mkdirs(ctx.hdfsRawDir);
  for (const name of SOURCE_NAMES) {
    const local = path.join(ctx.dataDir, SOURCES[name].file);
    const remote = `${ctx.hdfsRawDir}/${SOURCES[name].file}`;
    const stat = await hdfs.stat(remote);
    if (stat?.length === fs.statSync(local).size) continue;
    await hdfs.writeAtomic(remote, fs.createReadStream(local));
  }
  ctx.log(`data: ${ctx.params.rows} Ids in ${ctx.dataDir}, uploaded to HDFS ${ctx.hdfsRawDir}`);
}

export async function benchTransform(ctx: BenchContext): Promise<StageResult> {
  const stage = new StageRuns(ctx);
  const work = path.join(ctx.workDir, 'duckdb-transform');
  for (const i of range(ctx.params.runs)) {
    const t = await stage.ourRun(
      task(ctx, `transform-hdfs run ${i}`, 'tasks/transform-hdfs/cli.ts', ['--date', ctx.date]),
    );
    if (i === 1) stage.notes.push(`task summary: ${JSON.stringify(lastJsonLine(t.stdoutFile))}`);
    if (!ctx.params.anchors) continue;
    const a = await stage.anchorRun(
      task(ctx, `duckdb-transform run ${i}`, 'bench/anchors/duckdb-transform.ts', [
        ...['--raw-dir', ctx.hdfsRawDir, '--out-dir', ctx.hdfsAnchorDir, '--work', work],
      ]),
    );
    if (i === 1) stage.notes.push(`DuckDB phases (s): ${JSON.stringify(lastJsonLine(a.stdoutFile))}`);
  }
  await stage.profile(
    'transform',
    task(ctx, 'transform-hdfs', 'tasks/transform-hdfs/cli.ts', ['--date', ctx.date]),
  );
  stage.notes.push(
    'Both read the three source CSVs from HDFS over WebHDFS and write all_data_joined.csv + rejects back atomically; DuckDB (default threads = cores) cleans with TRY_CAST and joins in SQL.',
  );
  return stage.result('transform-hdfs', 'transform', ctx.params.rows, 'DuckDB same clean+join');
}

/** Values of the first `count` messages of a topic, one per line: the perf-test's payloads. */
async function writePayloadFile(
  ctx: BenchContext,
  topic: string,
  file: string,
  count: number,
): Promise<void> {
  await timed(ctx, {
    label: 'payload sample (console consumer)',
    cmd: 'bash',
    args: [
      '-c',
      `bash ${KAFKA_CLASS_SCRIPT} org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server ${ctx.config.kafka.brokers.join(',')} --topic ${topic} --from-beginning --max-messages ${count} --timeout-ms 60000 > ${file}`,
    ],
  });
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  if (lines < count / 2) throw new Error(`payload sample has ${lines} messages, expected ${count}`);
}

export interface ProducerOutcome {
  result: StageResult;
  /** A topic holding exactly `messages` messages of ours, for the consumer stage. */
  topic: string;
}

export async function benchProducer(ctx: BenchContext): Promise<ProducerOutcome> {
  const { messages, rows, runs } = ctx.params;
  const loops = Math.max(1, Math.round(messages / rows));
  const produced = loops * rows;
  const population = path.join(ctx.dataDir, SOURCES.population.file);
  const payloadFile = path.join(ctx.workDir, 'payloads.txt');
  const stage = new StageRuns(ctx);
  const selfReported: number[] = [];
  const perfReported: number[] = [];
  let firstTopic = '';
  const producerArgs = (topic: string) => [
    ...['--file', population, '--loops', String(loops)],
    ...['--topic', topic, '--date', ctx.date],
  ];
  for (const i of range(runs)) {
    const topic = `bench.population.${ctx.tag}.${i}`;
    await createTopic(ctx, topic);
    const t = await stage.ourRun(
      task(ctx, `producer run ${i}`, 'tasks/producer/cli.ts', producerArgs(topic)),
    );
    selfReported.push(Number(lastJsonLine(t.stdoutFile)?.messagesPerSecond ?? 0));
    if (i === 1) firstTopic = topic;
    if (!ctx.params.anchors) continue;
    if (i === 1) await writePayloadFile(ctx, topic, payloadFile, Math.min(100_000, produced));
    const perfTopic = `bench.perf.${ctx.tag}.${i}`;
    await createTopic(ctx, perfTopic);
    const a = await stage.anchorRun(
      producerPerfCommand(`producer-perf-test run ${i}`, {
        bootstrap: ctx.config.kafka.brokers.join(','),
        topic: perfTopic,
        records: produced,
        payloadFile,
        compression: 'gzip',
      }),
    );
    perfReported.push(parseProducerPerf(fs.readFileSync(a.stdoutFile, 'utf8')).recordsPerSecond);
  }
  await stage.profile('producer', task(ctx, 'producer', 'tasks/producer/cli.ts', producerArgs(firstTopic)));
  if (ctx.params.anchors) {
    const avgBytes = Math.round(
      fs.statSync(payloadFile).size / fs.readFileSync(payloadFile, 'utf8').split('\n').filter(Boolean).length,
    );
    stage.notes.push(
      `${loops} loops x ${rows.toLocaleString('en-US')} rows; acks=all, idempotent, gzip on both sides; perf-test payloads = ${Math.min(100_000, produced).toLocaleString('en-US')} of our own messages (avg ${avgBytes} B), Java client defaults otherwise (batch.size 16 KB, linger 5 ms), no key (ours keyed by Id).`,
      `self-reported rates (median, excluding process start-up): ours ${Math.round(median(selfReported)).toLocaleString('en-US')} msg/s, perf-test ${Math.round(median(perfReported)).toLocaleString('en-US')} msg/s.`,
    );
  }
  return {
    topic: firstTopic,
    result: stage.result('producer', 'producer', produced, 'kafka-producer-perf-test'),
  };
}

export async function benchConsumer(
  ctx: BenchContext,
  topic: string,
): Promise<{ result: StageResult; db: string }> {
  const { runs, consumerWorkers } = ctx.params;
  const loops = Math.max(1, Math.round(ctx.params.messages / ctx.params.rows));
  const messages = loops * ctx.params.rows;
  const stage = new StageRuns(ctx);
  const selfReported: number[] = [];
  const perfFetchRates: number[] = [];
  let firstDb = '';
  /** Arguments of a consumer run into a fresh db file `name`. */
  const freshConsumerRun = (name: string, group: string): { db: string; args: string[] } => {
    const db = path.join(ctx.dbDir, `${name}.db`);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${db}${suffix}`, { force: true });
    const args = [
      ...['--date', ctx.date, '--topic', topic, '--group', group],
      ...['--db', db, '--workers', String(consumerWorkers)],
    ];
    return { db, args };
  };
  for (const i of range(runs)) {
    const { db, args } = freshConsumerRun(`consumer-${i}`, `bench-${ctx.tag}-${i}`);
    const t = await stage.ourRun(task(ctx, `consumer run ${i}`, 'tasks/consumer/cli.ts', args));
    selfReported.push(Number(lastJsonLine(t.stdoutFile)?.messagesPerSecond ?? 0));
    const stored = new Database(db, { readonly: true })
      .prepare('SELECT count(*) FROM events')
      .pluck()
      .get() as number;
    if (stored !== messages)
      throw new Error(`consumer run ${i} stored ${stored} events, expected ${messages}`);
    if (i === 1) firstDb = db;
    if (!ctx.params.anchors) continue;
    const a = await stage.anchorRun(
      consumerPerfCommand(`consumer-perf-test run ${i}`, {
        bootstrap: ctx.config.kafka.brokers.join(','),
        topic,
        messages,
        group: `bench-perf-${ctx.tag}-${i}`,
      }),
    );
    perfFetchRates.push(parseConsumerPerf(fs.readFileSync(a.stdoutFile, 'utf8')).fetchMessagesPerSecond);
  }
  if (ctx.params.profile.includes('consumer')) {
    const { args } = freshConsumerRun('consumer-prof', `bench-${ctx.tag}-prof`);
    await stage.profile('consumer', task(ctx, 'consumer', 'tasks/consumer/cli.ts', args));
  }
  stage.notes.push(
    `${messages.toLocaleString('en-US')} messages over ${ctx.params.rows.toLocaleString('en-US')} Ids, --workers ${consumerWorkers}; every run checked: events in SQLite = messages. Ours includes loading the date's joined attributes (${ctx.params.rows.toLocaleString('en-US')} rows from HDFS) and committing every batch; the perf-test only fetches and decompresses.`,
    `self-reported rates (median): ours ${Math.round(median(selfReported)).toLocaleString('en-US')} msg/s${perfFetchRates.length ? `; perf-test fetch-only ${Math.round(median(perfFetchRates)).toLocaleString('en-US')} msg/s` : ''}.`,
  );
  return {
    db: firstDb,
    result: stage.result('consumer', 'consumer', messages, 'kafka-consumer-perf-test'),
  };
}

export async function benchComputeCube(
  ctx: BenchContext,
  consumerDb: string,
): Promise<{ result: StageResult; cubeDb: string }> {
  const events = new Database(consumerDb, { readonly: true })
    .prepare('SELECT count(*) FROM events WHERE date = ?')
    .pluck()
    .get(ctx.date) as number;
  const duck = path.join(ctx.dbDir, 'anchor.duckdb');
  // The DuckDB copy only serves the anchor runs.
  const prep = !ctx.params.anchors
    ? undefined
    : await timed(
        ctx,
        task(ctx, 'duckdb-cube prep (untimed)', 'bench/anchors/sqlite-to-duckdb.ts', [
          '--sqlite',
          consumerDb,
          '--duckdb',
          duck,
          '--date',
          ctx.date,
          '--work',
          path.join(ctx.workDir, 'duckdb-cube'),
        ]),
      );
  const stage = new StageRuns(ctx);
  if (prep)
    stage.notes.push(
      `DuckDB input prepared (untimed) in ${prep.seconds.toFixed(1)} s: ${JSON.stringify(lastJsonLine(prep.stdoutFile))}`,
    );
  let cubeDb = '';
  for (const i of range(ctx.params.runs)) {
    const out = path.join(ctx.dbDir, `cube-${i}.db`);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${out}${suffix}`, { force: true });
    const t = await stage.ourRun(
      task(ctx, `compute-cube run ${i}`, 'tasks/compute-cube/cli.ts', ['--date', ctx.date], {
        DB_PATH: consumerDb,
        CUBE_DB: out,
      }),
    );
    if (i === 1) {
      cubeDb = out;
      stage.notes.push(`task summary: ${JSON.stringify(lastJsonLine(t.stdoutFile))}`);
    }
    if (!ctx.params.anchors) continue;
    const a = await stage.anchorRun(
      task(ctx, `duckdb-cube run ${i}`, 'bench/anchors/duckdb-cube.ts', ['--db', duck, '--date', ctx.date]),
    );
    if (i === 1) stage.notes.push(`DuckDB: ${JSON.stringify(lastJsonLine(a.stdoutFile))}`);
  }
  await stage.profile(
    'compute-cube',
    task(ctx, 'compute-cube', 'tasks/compute-cube/cli.ts', ['--date', ctx.date], {
      DB_PATH: consumerDb,
      CUBE_DB: path.join(ctx.dbDir, 'cube-prof.db'),
    }),
  );
  stage.notes.push(
    `${events.toLocaleString('en-US')} events of the date -> latest per Id -> 3 cubes with bracket and city roll-ups. Each engine reads its own storage (SQLite file / DuckDB file) and writes the cubes into it.`,
  );
  return { cubeDb, result: stage.result('compute-cube', 'computeCube', events, 'DuckDB same cubes') };
}

/** Starts a server process and resolves once `ready` answers; its output goes to logs/<name>.out. */
async function startServer(
  ctx: BenchContext,
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: string,
) {
  const out = fs.openSync(path.join(ctx.logDir, `${name}.out`), 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ctx.root,
    env: { ...process.env, ...ctx.env, ...env },
    stdio: ['ignore', out, out],
  });
  const rss = sampleTreeRss(child.pid);
  const stop = async (): Promise<number | undefined> => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.closeSync(out);
    return rss.stop();
  };
  try {
    await waitForHttp(ready, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

export async function benchApi(ctx: BenchContext, cubeDb: string, port = 18_765): Promise<StageResult> {
  const { apiConnections, apiSeconds, runs } = ctx.params;
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/api/income`;
  const anchorUrl = `http://127.0.0.1:${port + 1}/api/income`;
  const workers = parseWorkers(ctx.env.API_WORKERS ?? process.env.API_WORKERS, os.availableParallelism());
  const api = await startServer(
    ctx,
    'api',
    [path.join(ctx.root, 'api/server.ts')],
    { CUBE_DB: cubeDb, API_PORT: String(port), API_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    `${base}/readyz`,
  );
  const recorded = path.join(ctx.logDir, 'api-income-response.json');
  let anchor: Awaited<ReturnType<typeof startServer>> | undefined;
  const loads: LoadResult[] = [];
  const anchorLoads: LoadResult[] = [];
  let peak: number | undefined;
  let anchorPeak: number | undefined;
  try {
    fs.writeFileSync(recorded, JSON.stringify(await recordResponse(url)));
    anchor = await startServer(
      ctx,
      'api-anchor',
      [path.join(ctx.root, 'bench/anchors/replay-server.ts'), recorded, String(port + 1), String(workers)],
      {},
      anchorUrl,
    );
    // Warm-up (JIT, statement cache), then ours and the anchor alternate run by run.
    await loadTest(url, apiConnections, 2);
    await loadTest(anchorUrl, apiConnections, 2);
    for (const i of range(runs)) {
      for (const [side, target, into] of [
        ['api', url, loads],
        ['anchor', anchorUrl, anchorLoads],
      ] as const) {
        const r = await loadTest(target, apiConnections, apiSeconds);
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`${side} load run ${i}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        into.push(r);
        ctx.log(
          `${side} run ${i}: ${Math.round(r.requestsPerSecond)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
        );
      }
    }
  } finally {
    anchorPeak = await anchor?.stop();
    peak = await api.stop();
  }
  const medianOf = (of: LoadResult[], pick: (l: LoadResult) => number): number => median(of.map(pick));
  const side = (name: string, of: LoadResult[], rss: number | undefined) => ({
    name,
    rows: Math.round(medianOf(of, (l) => l.requests)),
    samples: of.map((l) => ({ seconds: l.seconds, peakRssKb: rss })),
  });
  return {
    stage: 'api /api/income',
    ours: side('api', loads, peak),
    anchor: side('bare node:http replay', anchorLoads, anchorPeak),
    target: SPEC_TARGETS.api,
    http: {
      requestsPerSecond: medianOf(loads, (l) => l.requestsPerSecond),
      p50Ms: medianOf(loads, (l) => l.p50Ms),
      p99Ms: medianOf(loads, (l) => l.p99Ms),
      anchorRequestsPerSecond: medianOf(anchorLoads, (l) => l.requestsPerSecond),
    },
    notes: [
      `autocannon in the bench process, ${apiConnections} connections, ${apiSeconds} s per run after a 2 s warm-up, default page of /api/income; medians of ${runs} runs: p50 ${medianOf(loads, (l) => l.p50Ms)} ms, p99 ${medianOf(loads, (l) => l.p99Ms)} ms.`,
      `Anchor: a bare node:http server in ${workers} process(es), as many as the API's workers, replaying the API's recorded response (status, headers, body); runs alternate with ours. Anchor medians: ${Math.round(medianOf(anchorLoads, (l) => l.requestsPerSecond))} req/s, p99 ${medianOf(anchorLoads, (l) => l.p99Ms)} ms.`,
    ],
  };
}
