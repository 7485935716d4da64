// Every PromQL expression of the Grafana dashboard and of the alert rules, run against the real
// Prometheus of the local stack after a real pipeline run and some API traffic. A dashboard panel's
// expression must return data; an alert expression (empty while the alert does not fire) must be
// valid and every metric it reads must exist. Failures name the expression.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics } from './delete-topics.ts';
import {
  ensureApi,
  isolatedRun,
  REPO_DIR,
  runPipeline,
  sampleWithRejects,
  type IsolatedRun,
} from './pipeline-run.ts';
import {
  alertExpressions,
  dashboardExpressions,
  metricNames,
  PrometheusClient,
  type NamedExpression,
} from './promql.ts';

const PROMETHEUS_URL = (process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090').replace(/\/+$/, '');
const API_PORT = Number(process.env.API_PORT ?? 8000);
const DATE = '2026-01-15';
const prometheus = new PrometheusClient(PROMETHEUS_URL);
const panels = dashboardExpressions(path.join(REPO_DIR, 'grafana/dashboards'));
const alerts = alertExpressions(path.join(REPO_DIR, 'prometheus/alerts.yml'));

let api: ChildProcess | undefined;
let iso: IsolatedRun | undefined;

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

beforeAll(async () => {
  if (!(await prometheus.ready())) {
    throw new Error(
      `Prometheus does not answer at ${PROMETHEUS_URL}: start the local stack (npm run stack -- up)`,
    );
  }
  // Loads the current prometheus/alerts.yml (the local Prometheus runs with --web.enable-lifecycle).
  await prometheus.reload();
  iso = isolatedRun('promql');
  // The sample plus a few bad rows: the reject and dead-letter panels need a series each.
  const result = await runPipeline(iso, DATE, sampleWithRejects(iso));
  if (result.code !== 0) {
    throw new Error(
      `npm run pipeline failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  api = await ensureApi(iso, API_PORT);
  // Traffic for the API rate and latency panels: a few routes, and a 404.
  for (let i = 0; i < 40; i++) {
    for (const route of [
      '/api/income',
      '/api/cubes',
      '/api/health-insurance/18-34',
      '/healthz',
      '/api/nope',
    ]) {
      await fetch(`http://127.0.0.1:${API_PORT}${route}`).then((r) => r.arrayBuffer());
    }
  }
  // Two scrapes at 5 s put the pushed metrics and the request counters into every 1m window.
  await new Promise((r) => setTimeout(r, 12_000));
}, 300_000);

afterAll(async () => {
  api?.kill('SIGTERM');
  const topic = iso?.env.KAFKA_TOPIC;
  if (topic) {
    const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
    await deleteTopics(brokers, [topic, `${topic}.dlq`]).catch(() => undefined);
  }
});

describe('Grafana dashboard', () => {
  it.each(panels.map((p) => [p.origin, p] as [string, NamedExpression]))(
    '%s returns data',
    async (_origin, panel) => {
      const result = await eventually(async () => {
        const r = await prometheus.query(panel.expr);
        return r.status === 'success' && (r.data?.result.length ?? 0) > 0 ? r : undefined;
      }, 30_000);
      const last = result ?? (await prometheus.query(panel.expr));
      expect(last.status, `${panel.origin}: ${panel.expr} -> ${last.error ?? ''}`).toBe('success');
      expect(
        last.data?.result.length ?? 0,
        `${panel.origin}: "${panel.expr}" returned no data`,
      ).toBeGreaterThan(0);
    },
  );
});

describe('alert rules', () => {
  it.each(alerts.map((a) => [a.origin, a] as [string, NamedExpression]))(
    '%s is valid and reads existing metrics',
    async (_origin, alert) => {
      const r = await prometheus.query(alert.expr);
      expect(r.status, `${alert.origin}: ${alert.expr} -> ${r.error ?? ''}`).toBe('success');
      for (const metric of metricNames(alert.expr)) {
        const count = await eventually(
          async () => ((await prometheus.seriesCount(metric)) > 0 ? 1 : undefined),
          30_000,
        );
        expect(
          count,
          `${alert.origin}: metric ${metric} of "${alert.expr}" has no series in Prometheus`,
        ).toBe(1);
      }
    },
  );

  it('are loaded by Prometheus with no rule error', async () => {
    const groups = await prometheus.ruleGroups();
    const ours = groups.filter(
      (g) => g.file.endsWith('prometheus/alerts.yml') || g.file.endsWith('alerts.yml'),
    );
    expect(
      ours.map((g) => g.name),
      `rule groups loaded by ${PROMETHEUS_URL}`,
    ).toContain('population-pipeline');
    const loaded = ours.flatMap((g) => g.rules.map((r) => r.name));
    for (const { origin } of alerts) expect(loaded, origin).toContain(origin.split(' / ').pop());
    const broken = ours.flatMap((g) =>
      g.rules.filter((r) => r.health === 'err').map((r) => `${r.name}: ${r.lastError}`),
    );
    expect(broken).toEqual([]);
  });
});
