import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alertExpressions, dashboardExpressions, metricNames, substituteGrafanaVariables } from './promql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('PromQL extraction', () => {
  it('finds the metric names of an expression', () => {
    expect(
      metricNames(
        'sum by (job, date) (processing_errors_total) / clamp_min(sum by (job, date) (processed_messages_total), 1) > 0.01',
      ),
    ).toEqual(['processing_errors_total', 'processed_messages_total']);
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{status=~"5.."}[5m])))',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(
      metricNames('time() - max by (task) (pipeline_task_last_success_timestamp_seconds) > 26 * 3600'),
    ).toEqual(['pipeline_task_last_success_timestamp_seconds']);
    expect(metricNames('up{job="api"} == 0 or vector(0)')).toEqual(['up']);
    expect(metricNames('sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) > 2.5E+3')).toEqual([
      'a_total',
      'b_total',
    ]);
  });

  it("substitutes Grafana's range variables", () => {
    expect(substituteGrafanaVariables('rate(x[$__rate_interval])')).toBe('rate(x[1m])');
  });

  it('reads every expression of the dashboards and the alert rules', () => {
    const panels = dashboardExpressions(path.join(ROOT, 'grafana/dashboards'));
    const alerts = alertExpressions(path.join(ROOT, 'prometheus/alerts.yml'));
    expect(panels.length).toBeGreaterThanOrEqual(10);
    expect(alerts.length).toBeGreaterThanOrEqual(4);
    for (const { origin, expr } of [...panels, ...alerts]) {
      expect(expr, origin).not.toMatch(/\$__/);
      expect(metricNames(expr).length, `${origin}: ${expr}`).toBeGreaterThan(0);
    }
    // SPEC 7: the dashboard shows each of these.
    const all = panels.map((p) => p.expr).join('\n');
    for (const metric of [
      'processed_messages_total',
      'processing_errors_total',
      'message_processing_duration_seconds',
      'consumer_lag',
      'consumer_rejects_total',
      '_duration_seconds',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
    ]) {
      expect(all, metric).toContain(metric);
    }
  });
});
