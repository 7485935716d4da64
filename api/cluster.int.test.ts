// Cluster mode (API_WORKERS=2) as `npm run api` runs it: the real server process and its workers
// over a sample cube db. Every worker serves, /metrics counts the requests of all of them, a db
// swap reaches every worker, a dead worker is replaced, and SIGTERM stops them all with exit 0.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSampleCubeDb } from '../test/fixtures/sample-cubes.ts';
import { sampleCubeDb } from '../test/api/support.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const NEXT_DATE = '2016-01-01';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: Awaited<ReturnType<typeof sampleCubeDb>>;
let primary: ChildProcess;
let base: string;
const log: string[] = [];

/** Pids of the API workers: the primary's children running api/server.ts (not tsx's esbuild). */
function workerPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== primary.pid) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('api/server.ts'))
        pids.push(Number(entry));
    } catch {
      // the process ended while being read
    }
  }
  return pids;
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`);

/** GET on a new connection each time, so the primary hands it to one worker or the other. */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(base + url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject)
      .setTimeout(5000, function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url}: no response in 5 s`));
      });
  });
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log.slice(-20).join('\n')}`);
    await sleep(200);
  }
}

/** A sample's value in the Prometheus text by name and label subset. */
function sampleValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  db = await sampleCubeDb();
  primary = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      CUBE_DB: db.cubeDbPath,
      API_PORT: '0',
      API_HOST: '127.0.0.1',
      API_WORKERS: '2',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  readline.createInterface({ input: primary.stderr! }).on('line', (line) => {
    log.push(line);
    const port = /"port":(\d+)/.exec(line)?.[1];
    if (port) base = `http://127.0.0.1:${port}`;
  });
  await until(
    'both workers listening',
    () => log.some((l) => l.includes('all 2 API workers listening')),
    60_000,
  );
});

afterAll(async () => {
  if (primary.exitCode === null) {
    primary.kill('SIGKILL');
    for (const pid of workerPids()) process.kill(pid, 'SIGKILL');
  }
  db.remove();
});

describe('API cluster mode', () => {
  it('serves from both workers, and /metrics counts the requests of all of them', async () => {
    expect(workerPids()).toHaveLength(2);
    for (let i = 0; i < 10; i++) expect((await getFresh('/api/income')).status).toBe(200);
    const metrics = await getFresh('/metrics');
    expect(metrics.status).toBe(200);
    expect(sampleValue(metrics.body, 'http_requests_total', { route: '/api/income', status: '200' })).toBe(
      10,
    );
    // Each worker has its own response cache: one miss each means both served.
    expect(sampleValue(metrics.body, 'api_response_cache_lookups_total', { result: 'miss' })).toBe(2);
    expect(sampleValue(metrics.body, 'api_response_cache_lookups_total', { result: 'hit' })).toBe(8);
  });

  it('every worker serves the new cube db after a swap', async () => {
    const next = path.join(db.dir, 'next.db');
    fs.copyFileSync(db.cubeDbPath, next);
    await buildSampleCubeDb(next, NEXT_DATE);
    fs.renameSync(next, db.cubeDbPath);
    await until('every worker on the new date', async () => {
      const dates = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const res = await getFresh('/api/income?limit=1');
          return (JSON.parse(res.body) as { meta: { date: string } }).meta.date;
        }),
      );
      return dates.every((d) => d === NEXT_DATE);
    });
  });

  it('replaces a worker that dies', async () => {
    const [victim, survivor] = workerPids();
    process.kill(victim!, 'SIGKILL');
    // Connections the primary handed to the worker before it noticed the death are lost with it.
    await until('the primary noticing', () => log.some((l) => l.includes('an API worker died')));
    for (let i = 0; i < 4; i++) expect((await getFresh('/api/income')).status).toBe(200);
    await until('a new worker', () => {
      const pids = workerPids();
      return pids.length === 2 && !pids.includes(victim!) && pids.includes(survivor!);
    });
    await until(
      'the new worker listening',
      () => log.filter((l) => l.includes('all 2 API workers listening')).length === 2,
    );
    for (let i = 0; i < 4; i++) expect((await getFresh('/api/income')).status).toBe(200);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const workers = workerPids();
    const exited = new Promise<number | null>((resolve) => primary.once('exit', resolve));
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(workers.filter(alive)).toEqual([]);
  });
});
