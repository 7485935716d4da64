import { describe, expect, it } from 'vitest';
import { Gauge, Registry, recordBatchRun, type BatchPush } from './metrics.ts';

function batchMetrics() {
  const registry = new Registry();
  return {
    registry,
    success: new Gauge({ name: 'task_success', help: 'h', registers: [registry] }),
    lastSuccess: new Gauge({ name: 'task_last_success', help: 'h', registers: [registry] }),
  };
}
const value = async (g: Gauge) => (await g.get()).values[0]?.value;
const noPush = (warnings: string[] = []): BatchPush => ({
  job: 'task',
  config: { date: '2026-01-01', metrics: { pushgatewayUrl: '' } },
  log: { warn: (_obj: unknown, msg?: string) => warnings.push(String(msg)) } as BatchPush['log'],
});

describe('recordBatchRun', () => {
  it('records success and the end time, and returns the result', async () => {
    const m = batchMetrics();
    const before = Date.now() / 1000;
    await expect(recordBatchRun(m, noPush(), async () => 42)).resolves.toBe(42);
    expect(await value(m.success)).toBe(1);
    expect(await value(m.lastSuccess)).toBeGreaterThanOrEqual(before);
  });

  it('records a failure without a last-success time and rethrows it', async () => {
    const m = batchMetrics();
    await expect(
      recordBatchRun(m, noPush(), () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await value(m.success)).toBe(0);
    expect(await value(m.lastSuccess)).toBe(0);
  });

  it('reports a failed push without failing the run', async () => {
    const m = batchMetrics();
    const warnings: string[] = [];
    const push = noPush(warnings);
    push.config.metrics.pushgatewayUrl = 'http://127.0.0.1:9';
    await expect(recordBatchRun(m, push, () => 'done')).resolves.toBe('done');
    expect(warnings).toEqual(['metrics push failed']);
  });
});
