// Every task records its success the same way: the gauges of lib/metrics.ts createRunGauges, under
// one name, told apart by the registry's task label (what PipelineNoSuccessfulRun and the dashboard
// read). test/e2e/task-success.int.test.ts checks that each task really pushes them.
import { describe, expect, it } from 'vitest';
import { markSucceeded, type Registry } from '../lib/metrics.ts';
import { createCubeMetrics } from './compute-cube/metrics.ts';
import { createConsumerMetrics } from './consumer/metrics.ts';
import { createProducerMetrics } from './producer/metrics.ts';
import { createTransformMetrics } from './transform-hdfs/metrics.ts';

const tasks: [string, () => { registry: Registry } & Parameters<typeof markSucceeded>[0]][] = [
  ['producer', () => createProducerMetrics({ task: 'producer' })],
  ['transform_hdfs', createTransformMetrics],
  ['consumer', () => createConsumerMetrics({ task: 'consumer' })],
  ['compute_cube', createCubeMetrics],
];

describe.each(tasks)('%s metrics', (task, create) => {
  it('carry pipeline_task_success and its last-success time under the task label', async () => {
    const metrics = create();
    const before = Date.now() / 1000;
    markSucceeded(metrics);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`^pipeline_task_success\\{task="${task}"\\} 1$`, 'm'));
    const last = new RegExp(
      `^pipeline_task_last_success_timestamp_seconds\\{task="${task}"\\} (\\S+)$`,
      'm',
    ).exec(text);
    expect(Number(last?.[1])).toBeGreaterThanOrEqual(before);
  });
});
