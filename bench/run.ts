// npm run bench [-- --quick] [--runs N] [--only a,b] ...: runs each pipeline stage against its anchor
// on the local stack, prints one table and writes bench/results/latest.{md,json}. See README "Benchmarks".
import { Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { createContext, deleteTopics, type BenchContext, type BenchParams } from './context.ts';
import { machineInfo } from './machine.ts';
import { renderMarkdown, renderTable, toJson, type BenchReport, type StageResult } from './report.ts';
import {
  benchApi,
  benchComputeCube,
  benchConsumer,
  benchProducer,
  benchTransform,
  prepareData,
} from './stages.ts';
import { benchLive } from './live.ts';

const STAGES = ['transform', 'producer', 'consumer', 'compute-cube', 'api', 'live'] as const;
type Stage = (typeof STAGES)[number];

function positiveInt(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function stageList(value: string): Stage[] {
  const names = value.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(STAGES as readonly string[]).includes(n))
      throw new InvalidArgumentError(`unknown stage "${n}" (${STAGES.join(', ')})`);
  }
  return names as Stage[];
}

const program = new Command('bench')
  .description(
    'Benchmark every stage against its anchor (Kafka perf tools, DuckDB, autocannon) on the local stack.',
  )
  .option('--quick', '1M messages instead of 5M, shorter API runs (under 10 minutes)')
  .option('--runs <n>', 'runs per measurement; the table shows the median', positiveInt, 3)
  .option('--rows <n>', 'Ids in the generated population', positiveInt, 250_000)
  .option('--messages <n>', 'messages produced and consumed (default 5M, 1M with --quick)', positiveInt)
  .option('--seed <s>', 'generator seed', 'bench')
  .option('--dirty <f>', 'generator dirt fraction', '0.01')
  .option('--consumer-workers <n>', 'consumer --workers (default 3: one per partition)', positiveInt, 3)
  .option('--api-seconds <n>', 'seconds per API load run (default 10, 5 with --quick)', positiveInt)
  .option('--api-connections <n>', 'concurrent connections of the API load', positiveInt, 50)
  .option(
    '--live-seconds <n>',
    'live stage: measured window after the first cube build (default 180, 90 with --quick)',
    positiveInt,
  )
  .option(
    '--live-interval <duration>',
    "live stage: the producer's --interval (as npm run live; 0 resends as fast as it can, an overload)",
    '10s',
  )
  .option(
    '--only <stages>',
    `comma-separated subset of ${STAGES.join(',')} (dependencies still run)`,
    stageList,
  )
  .option(
    '--profile <stages>',
    'after the measured runs, one run of each listed stage under node --cpu-prof, summarised in the notes',
    stageList,
  )
  .option('--keep-topics', 'keep the bench topics (default: deleted at the end)')
  .option('--results <dir>', 'where latest.md and latest.json go', 'bench/results')
  .showHelpAfterError();

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{
    quick?: boolean;
    runs: number;
    rows: number;
    messages?: number;
    seed: string;
    dirty: string;
    consumerWorkers: number;
    apiSeconds?: number;
    apiConnections: number;
    liveSeconds?: number;
    liveInterval: string;
    only?: Stage[];
    profile?: Stage[];
    keepTopics?: boolean;
    results: string;
  }>();
  const quick = o.quick === true;
  const params: BenchParams = {
    quick,
    runs: o.runs,
    rows: o.rows,
    messages: o.messages ?? (quick ? 1_000_000 : 5_000_000),
    seed: o.seed,
    dirty: Number(o.dirty),
    consumerWorkers: o.consumerWorkers,
    apiSeconds: o.apiSeconds ?? (quick ? 5 : 10),
    apiConnections: o.apiConnections,
    keepTopics: o.keepTopics === true,
    profile: o.profile ?? [],
    anchors: true,
  };
  const ctx = createContext(params);
  const wanted = new Set<Stage>(o.only ?? STAGES);
  const results: StageResult[] = [];
  const failures: { stage: string; error: string }[] = [];
  const started = Date.now();
  const attempt = async <T>(stage: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.log(`${stage} FAILED: ${message}`);
      failures.push({ stage, error: message.split('\n')[0]! });
      return undefined;
    }
  };

  ctx.log(`logs in ${ctx.logDir}; parameters ${JSON.stringify(params)}`);
  const data = await attempt('data', () => prepareData(ctx));
  if (data !== undefined || fs.existsSync(path.join(ctx.dataDir, '.complete'))) {
    // Dependencies: the consumer needs the producer's topic and the joined file, the cube the
    // consumer's db, the API the cube db.
    const needConsumer = wanted.has('consumer') || wanted.has('compute-cube') || wanted.has('api');
    const needProducer = wanted.has('producer') || needConsumer;
    const needTransform = wanted.has('transform') || needConsumer || wanted.has('live');
    // A stage wanted only as input of a later one runs once, without its anchor.
    const as = (stage: Stage): BenchContext =>
      wanted.has(stage) ? ctx : { ...ctx, params: { ...ctx.params, runs: 1, anchors: false, profile: [] } };
    if (needTransform) {
      const r = await attempt('transform', () => benchTransform(as('transform')));
      if (r && wanted.has('transform')) results.push(r);
    }
    const produced = needProducer
      ? await attempt('producer', () => benchProducer(as('producer')))
      : undefined;
    if (produced && wanted.has('producer')) results.push(produced.result);
    const consumed =
      produced && needConsumer
        ? await attempt('consumer', () => benchConsumer(as('consumer'), produced.topic))
        : undefined;
    if (consumed && wanted.has('consumer')) results.push(consumed.result);
    const needCube = wanted.has('compute-cube') || wanted.has('api');
    const cubes =
      consumed && needCube
        ? await attempt('compute-cube', () => benchComputeCube(as('compute-cube'), consumed.db))
        : undefined;
    if (cubes && wanted.has('compute-cube')) results.push(cubes.result);
    if (cubes && wanted.has('api')) {
      const api = await attempt('api', () => benchApi(ctx, cubes.cubeDb));
      if (api) results.push(api);
    }
    if (wanted.has('live')) {
      // Last: the three followers compete with nothing else the bench runs.
      const live = await attempt('live', () =>
        benchLive(ctx, o.liveSeconds ?? (quick ? 90 : 180), o.liveInterval),
      );
      if (live) results.push(live);
    }
  }
  if (!params.keepTopics) {
    await attempt('cleanup', () =>
      deleteTopics(ctx, [...ctx.topicsCreated, ...ctx.topicsCreated.map((t) => `${t}.dlq`)]),
    );
  }

  const argv = process.argv.slice(2);
  const report: BenchReport = {
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: machineInfo(),
    parameters: {
      ...params,
      profile: params.profile.join(',') || 'none',
      totalMinutes: Math.round((Date.now() - started) / 600) / 100,
    },
    results,
    failures,
  };
  fs.mkdirSync(o.results, { recursive: true });
  fs.writeFileSync(path.join(o.results, 'latest.md'), renderMarkdown(report));
  const jsonTmp = path.join(o.results, 'latest.json.tmp');
  fs.writeFileSync(jsonTmp, `${JSON.stringify(toJson(report), null, 2)}\n`);
  fs.renameSync(jsonTmp, path.join(o.results, 'latest.json'));
  process.stdout.write(`\n${renderTable(results)}\n\n`);
  for (const f of failures) process.stdout.write(`did not run: ${f.stage}: ${f.error}\n`);
  process.stdout.write(
    `results: ${path.join(o.results, 'latest.md')} (${report.parameters.totalMinutes} min)\n`,
  );
  // A missed target is a result, reported in the table; only a stage that could not run fails the bench.
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
