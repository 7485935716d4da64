// Extraction of the PromQL expressions of the Grafana dashboards and the alert rules, and a small
// client of the Prometheus HTTP API. Pure helpers are unit-tested in promql.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface NamedExpression {
  /** Where the expression comes from, e.g. `dashboard population-pipeline / Consumer lag / A`. */
  origin: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

/** Grafana's built-in range variables, replaced as Grafana would for a 5 s scrape interval. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h');
}

export function dashboardExpressions(dir: string): NamedExpression[] {
  const out: NamedExpression[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      title?: string;
      panels?: Panel[];
    };
    const visit = (panels: Panel[] = []) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          if (target.expr) {
            out.push({
              origin: `dashboard ${dashboard.title ?? file} / ${panel.title ?? '?'} / ${target.refId ?? '?'}`,
              expr: substituteGrafanaVariables(target.expr),
            });
          }
        }
        visit(panel.panels);
      }
    };
    visit(dashboard.panels);
  }
  return out;
}

export function alertExpressions(file: string): NamedExpression[] {
  const rules = parse(readFileSync(file, 'utf8')) as {
    groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ origin: `alert ${g.name} / ${r.alert ?? r.record ?? '?'}`, expr: String(r.expr) })),
  );
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** Metric names an expression selects (pure): identifiers that are neither functions nor keywords. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
    .replace(/(?<![A-Za-z0-9_:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, ' ') // numbers, 1e-9 included
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = match;
    if (!name || call || KEYWORDS.has(name.toLowerCase())) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

export interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

export class PrometheusClient {
  constructor(readonly url: string) {}

  async query(expr: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as QueryResult;
  }

  /** Series of a metric seen in the last hour. */
  async seriesCount(metric: string): Promise<number> {
    const start = Math.floor(Date.now() / 1000) - 3600;
    const res = await fetch(
      `${this.url}/api/v1/series?match[]=${encodeURIComponent(metric)}&start=${start}`,
      { signal: AbortSignal.timeout(10_000) },
    );
    const body = (await res.json()) as { data?: unknown[] };
    return body.data?.length ?? 0;
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(3000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Asks Prometheus to re-read its config and rules (needs --web.enable-lifecycle). */
  async reload(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/-/reload`, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
      });
      return res.ok;
    } catch {
      return false;
    }
  }

  async ruleGroups(): Promise<
    { name: string; file: string; rules: { name: string; health: string; lastError?: string }[] }[]
  > {
    const res = await fetch(`${this.url}/api/v1/rules`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as {
      data: {
        groups: {
          name: string;
          file: string;
          rules: { name: string; health: string; lastError?: string }[];
        }[];
      };
    };
    return body.data.groups;
  }
}
