// Each of the four tasks pushes pipeline_task_success and pipeline_task_last_success_timestamp_seconds
// (labelled with its task) at the end of a run, as PipelineNoSuccessfulRun and the dashboard expect:
// `npm run pipeline` on the sample against the real stack, with PUSHGATEWAY_URL pointing at a
// recorder of what is pushed; then a compute-cube run that fails pushes success 0.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics } from './delete-topics.ts';
import { isolatedRun, run, runPipeline, type IsolatedRun } from './pipeline-run.ts';

const DATE = '2015-12-31';

/** What the tasks push: method, path (/metrics/job/<job>/date/<date>) and the exposition text. */
interface Push {
  method: string;
  url: string;
  body: string;
}

let recorder: http.Server;
let pushes: Push[] = [];
let gateway = '';
let iso: IsolatedRun;
let started = 0;

beforeAll(async () => {
  recorder = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      pushes.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  gateway = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  iso = isolatedRun('task-success');
  iso.env.PUSHGATEWAY_URL = gateway;
  started = Date.now() / 1000;
  const result = await runPipeline(iso, DATE);
  if (result.code !== 0) {
    throw new Error(
      `npm run pipeline failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}, 300_000);

afterAll(async () => {
  recorder?.close();
  const topic = iso?.env.KAFKA_TOPIC;
  if (topic) {
    const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
    await deleteTopics(brokers, [topic, `${topic}.dlq`]).catch(() => undefined);
  }
});

const sample = (body: string, name: string, task: string): number | undefined => {
  const m = new RegExp(`^${name}\\{[^}]*task="${task}"[^}]*\\} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
};

describe('every task reports its success the same way', () => {
  it.each([
    ['producer', 'producer'],
    ['transform_hdfs', 'transform_hdfs'],
    ['consumer', 'consumer'],
    ['compute_cube', 'compute_cube'],
  ])('%s pushes success 1 and its last-success time to job %s', (task, job) => {
    const mine = pushes.filter((p) => p.url.startsWith(`/metrics/job/${job}/date/${DATE}`));
    expect(mine.length, `pushes to job ${job}: ${pushes.map((p) => p.url).join(', ')}`).toBeGreaterThan(0);
    const last = mine[mine.length - 1]!.body;
    expect(sample(last, 'pipeline_task_success', task)).toBe(1);
    expect(sample(last, 'pipeline_task_last_success_timestamp_seconds', task)).toBeGreaterThanOrEqual(
      started,
    );
  });

  it('a failed run pushes success 0', async () => {
    pushes = [];
    const result = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'tasks/compute-cube/cli.ts',
        '--date',
        DATE,
        '--db',
        path.join(iso.varDir, 'missing.db'),
      ],
      iso.env,
    );
    expect(result.code).toBe(1);
    const push = pushes.find((p) => p.url.startsWith(`/metrics/job/compute_cube/date/${DATE}`));
    expect(push, result.stderr).toBeDefined();
    expect(sample(push!.body, 'pipeline_task_success', 'compute_cube')).toBe(0);
  });
});
