// The checks of `npm run compose -- test`, run against the containers after a DAG run in Docker mode.
// Each returns the lines it prints and throws (with the evidence) when its claim does not hold.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ageGroupSlug } from '../../api/endpoints.ts';
import { createApp } from '../../api/app.ts';
import { AGE_GROUPS } from '../../lib/cubes.ts';
import { createLogger } from '../../lib/log.ts';
import { buildSampleCubeDb } from '../../test/fixtures/sample-cubes.ts';
import type { AirflowClient } from '../airflow/client.ts';
import type { DagRunResult } from './airflow.ts';
import { docker, PROJECT, sleep, TASK_IMAGE, urls } from './compose.ts';

const NETWORK = 'population-pipeline';
const VOLUME = 'population-pipeline-var';

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  assert(res.ok, `GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

// ---------------------------------------------------------------- task containers (docker events)

interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
}

export async function dockerEvents(sinceSeconds: number): Promise<DockerEvent[]> {
  const out = await docker([
    'events',
    '--since',
    String(sinceSeconds),
    '--until',
    String(Math.ceil(Date.now() / 1000)),
    '--format',
    '{{json .}}',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DockerEvent);
}

/**
 * Each task ran as its own container of the task image, created through the socket proxy (its access
 * log), attached to the compose network, with the SQLite volume mounted; the task logs name the image.
 */
export async function checkTaskContainers(
  events: DockerEvent[],
  run: DagRunResult,
  client: AirflowClient,
  proxyLogSince: number,
): Promise<string[]> {
  const created = events.filter(
    (e) =>
      e.Type === 'container' &&
      e.Action === 'create' &&
      e.Actor.Attributes.image === TASK_IMAGE &&
      e.Actor.Attributes['com.docker.compose.project'] === undefined,
  );
  const tries = run.tasks.reduce((n, t) => n + t.try_number, 0);
  assert(
    created.length === tries,
    `${created.length} task containers were created for ${tries} task tries (${run.tasks.map((t) => `${t.task_id} x${t.try_number}`).join(', ')})`,
  );
  for (const c of created) {
    const id = c.Actor.ID;
    const onNetwork = events.some(
      (e) =>
        e.Type === 'network' &&
        e.Action === 'connect' &&
        e.Actor.Attributes.container === id &&
        e.Actor.Attributes.name === NETWORK,
    );
    const mounted = events.some(
      (e) =>
        e.Type === 'volume' &&
        e.Action === 'mount' &&
        e.Actor.ID === VOLUME &&
        e.Actor.Attributes.container === id &&
        e.Actor.Attributes.destination === '/app/var',
    );
    assert(onNetwork, `task container ${c.Actor.Attributes.name} was not connected to ${NETWORK}`);
    assert(mounted, `task container ${c.Actor.Attributes.name} did not mount ${VOLUME} at /app/var`);
  }
  const proxy = (
    await docker([
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.service=docker-socket-proxy`,
      '--filter',
      `label=com.docker.compose.project=${PROJECT}`,
    ])
  ).trim();
  const proxyLog = await docker(['logs', '--since', String(proxyLogSince), proxy]).catch(() => '');
  const creates = proxyLog.split('\n').filter((l) => /"POST \/v[\d.]+\/containers\/create/.test(l)).length;
  assert(
    creates >= created.length,
    `the socket proxy logged ${creates} container creations for ${created.length} task containers`,
  );
  for (const t of run.tasks) {
    const text = await client.taskLog(run.runId, t.task_id, t.try_number);
    assert(text.includes(TASK_IMAGE), `the log of ${t.task_id} does not name the image ${TASK_IMAGE}`);
  }
  return [
    `${created.length} task containers of ${TASK_IMAGE} (one per task try), each on network ${NETWORK} with volume ${VOLUME} at /app/var`,
    `socket proxy: ${creates} POST /containers/create; every task log names ${TASK_IMAGE}`,
  ];
}

// ---------------------------------------------------------------- API rows against the local code

export function apiPaths(date: string): string[] {
  const query = `?date=${date}&limit=1000`;
  return [
    `/api/income${query}`,
    `/api/self-employment${query}`,
    ...AGE_GROUPS.map((g) => `/api/health-insurance/${ageGroupSlug(g)}${query}`),
  ];
}

/**
 * The rows the local pipeline serves for the sample data and `date`: the cubes built from data/sample
 * by the real transform, cube maths and writer (test/fixtures/sample-cubes.ts), served by the real API.
 */
export async function expectedRows(date: string): Promise<Map<string, unknown>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-expected-'));
  const cubeDbPath = path.join(dir, 'cube_analytics.db');
  await buildSampleCubeDb(cubeDbPath, date);
  const api = createApp({ cubeDbPath, logger: createLogger('compose-expected', 'silent') });
  const server = api.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const rows = new Map<string, unknown>();
    for (const p of apiPaths(date)) rows.set(p, (await getJson<{ data: unknown[] }>(base + p)).data);
    return rows;
  } finally {
    server.close();
    api.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function containerRows(date: string): Promise<Map<string, unknown>> {
  const rows = new Map<string, unknown>();
  for (const p of apiPaths(date)) rows.set(p, (await getJson<{ data: unknown[] }>(urls().api + p)).data);
  return rows;
}

export function compareRows(
  actual: Map<string, unknown>,
  expected: Map<string, unknown>,
  what: string,
): string {
  let total = 0;
  for (const [p, rows] of expected) {
    const got = actual.get(p);
    assert(Array.isArray(rows) && rows.length > 0, `the expected rows of ${p} are empty`);
    const same = JSON.stringify(got) === JSON.stringify(rows);
    assert(
      same,
      `${what}: ${p} differs: got ${JSON.stringify(got).slice(0, 300)}, expected ${JSON.stringify(rows).slice(0, 300)}`,
    );
    total += rows.length;
  }
  return `${what}: ${expected.size} endpoints, ${total} rows, identical`;
}

// ---------------------------------------------------------------- Prometheus

export async function checkPrometheus(date: string): Promise<string[]> {
  const base = urls().prometheus;
  const deadline = Date.now() + 60_000;
  const batchMetrics = [
    'producer_messages_total',
    'transform_rows_joined_total',
    'processed_messages_total',
    'compute_cube_rows_out_total',
  ];
  let problem = '';
  // Scrapes run every 5 s: give the targets and the pushed metrics a moment to appear.
  while (Date.now() < deadline) {
    const targets = await getJson<{
      data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
    }>(`${base}/api/v1/targets`);
    const active = targets.data.activeTargets;
    const down = active.filter((t) => t.health !== 'up');
    const rules = await getJson<{ data: { groups: { rules: unknown[] }[] } }>(`${base}/api/v1/rules`);
    const ruleCount = rules.data.groups.reduce((n, g) => n + g.rules.length, 0);
    const missing: string[] = [];
    for (const metric of batchMetrics) {
      const q = await getJson<{ data: { result: unknown[] } }>(
        `${base}/api/v1/query?query=${encodeURIComponent(`${metric}{date="${date}"}`)}`,
      );
      if (q.data.result.length === 0) missing.push(metric);
    }
    const api = await getJson<{ data: { result: unknown[] } }>(
      `${base}/api/v1/query?query=${encodeURIComponent('http_requests_total{job="api"}')}`,
    );
    if (
      active.length >= 3 &&
      down.length === 0 &&
      ruleCount > 0 &&
      missing.length === 0 &&
      api.data.result.length > 0
    )
      return [
        `Prometheus: ${active.length} targets up (${[...new Set(active.map((t) => t.labels.job))].join(', ')}), ${ruleCount} alert rules loaded`,
        `Prometheus: ${batchMetrics.join(', ')} present for date ${date}; API request metrics (http_requests_total, ${api.data.result.length} series)`,
      ];
    problem = `${active.length} targets, down: ${down.map((t) => `${t.labels.job} (${t.lastError})`).join(', ') || 'none'}; ${ruleCount} rules; missing for ${date}: ${missing.join(', ') || 'none'}; API series: ${api.data.result.length}`;
    await sleep(3000);
  }
  throw new Error(`Prometheus: ${problem}`);
}

// ---------------------------------------------------------------- Airflow login and Swagger UI

export async function checkLoginAndDocs(client: AirflowClient): Promise<string[]> {
  const { url, username, password } = client.options;
  const good = await client.tryLogin();
  assert(good === 201 || good === 200, `Airflow login ${username}/<password> answered ${good}`);
  const bad = await client.tryLogin(username, `${password}-wrong`);
  assert(bad === 401 || bad === 403, `Airflow accepted a wrong password (answered ${bad})`);
  await client.login();
  const ui = await fetch(`${url}/`);
  assert(ui.ok, `Airflow UI / answered ${ui.status}`);
  const docs = await fetch(`${urls().api}/docs/`);
  const html = await docs.text();
  assert(docs.ok && html.includes('swagger-ui'), `/docs answered ${docs.status} without Swagger UI`);
  return [
    `Airflow ${url}: login ${username} accepted (${good}), a wrong password refused (${bad}), UI / answers ${ui.status}`,
    `API ${urls().api}/docs/: Swagger UI (${html.length} bytes)`,
  ];
}

// ---------------------------------------------------------------- killing a task container

/**
 * Waits for the container of `cli` (a task of the task image run for `date`) and kills it once it has
 * run for `afterMs`; resolves with what it killed, or null if the task ended before.
 */
export async function killTaskContainer(
  cli: string,
  date: string,
  afterMs: number,
  timeoutMs = 600_000,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ids = (await docker(['ps', '-q', '--filter', `ancestor=${TASK_IMAGE}`]))
      .split('\n')
      .filter(Boolean);
    for (const id of ids) {
      const info = (
        await docker(['inspect', '-f', '{{json .Config.Cmd}}|{{.State.StartedAt}}|{{.Name}}', id]).catch(
          () => '',
        )
      ).trim();
      const [cmd = '', startedAt = '', name = ''] = info.split('|');
      if (!cmd.includes(cli) || !cmd.includes(date)) continue;
      const ranMs = Date.now() - Date.parse(startedAt);
      if (ranMs < afterMs) await sleep(afterMs - ranMs);
      const killed = await docker(['kill', id]).then(
        () => true,
        () => false,
      );
      return killed
        ? `${name.replace(/^\//, '')} (${cli}) killed ${Math.max(ranMs, afterMs)} ms after its start`
        : null;
    }
    await sleep(50);
  }
  return null;
}

/** Events stored for `date` in the consumer's SQLite (in the volume), read by a container of the task image. */
export async function storedEvents(
  date: string,
): Promise<{ events: number; distinct: number; latest: number }> {
  const script = `const db = new (require('better-sqlite3'))('/app/var/base_de_donnees.db', { readonly: true });
const r = db.prepare('SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_ids FROM events WHERE date = ?').get(process.argv[1]);
const l = db.prepare('SELECT count(*) AS latest FROM latest_events WHERE date = ?').get(process.argv[1]);
console.log(JSON.stringify({ events: r.events, distinct: r.distinct_ids, latest: l.latest }));`;
  const out = await docker([
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${VOLUME}:/app/var`,
    '--entrypoint',
    'node',
    TASK_IMAGE,
    '-e',
    script,
    date,
  ]);
  return JSON.parse(out.trim().split('\n').pop()!) as { events: number; distinct: number; latest: number };
}
