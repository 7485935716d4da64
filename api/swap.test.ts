// compute-cube publishes a new cube_analytics.db by renaming it over the old one. The API must pick
// it up without a restart and without failing a request, even under load.
import fs from 'node:fs';
import type http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSampleCubeDb } from '../test/fixtures/sample-cubes.ts';
import { createApp, type Api } from './app.ts';
import { SAMPLE_DATE, sampleCubeDb } from '../test/api/support.ts';

const NEXT_DATE = '2016-01-01';
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(cubeDbPath: string): Promise<{ api: Api; base: string }> {
  const api = createApp({ cubeDbPath, reloadCheckMs: 50 });
  const server: http.Server = api.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    api.close();
  });
  return { api, base: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cube db swap', () => {
  it('serves the new file after a rename over the old one, under load, with no failed request', async () => {
    const db = await sampleCubeDb();
    cleanups.push(db.remove);
    const { base } = await serve(db.cubeDbPath);

    // The next build, made the way compute-cube makes it: a copy of the current file plus a date.
    const next = path.join(db.dir, 'next.db');
    fs.copyFileSync(db.cubeDbPath, next);
    await buildSampleCubeDb(next, NEXT_DATE);

    const urls = [
      '/api/income',
      '/api/health-insurance/18-34?sort=-uninsuredRate',
      '/api/self-employment?limit=10',
      '/api/cubes',
      '/api/cubes/income?grain=city',
    ];
    const failures: string[] = [];
    const datesSeen = new Set<string>();
    let requests = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = w; !stop; i++) {
        const url = urls[i % urls.length]!;
        try {
          const res = await fetch(base + url);
          const body = (await res.json()) as { meta: { date: string | null } };
          if (res.status !== 200) failures.push(`${url} -> ${res.status} ${JSON.stringify(body)}`);
          else if (url.startsWith('/api/income')) datesSeen.add(String(body.meta.date));
        } catch (err) {
          failures.push(`${url} -> ${(err as Error).message}`);
        }
        requests++;
      }
    };
    // Progress-based, not time-based: the machine may be slow, the checks must not be.
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 30_000; !done() && Date.now() < deadline;) await sleep(20);
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    await until(() => requests >= 100);
    const beforeSwap = requests;
    fs.renameSync(next, db.cubeDbPath);
    await until(() => datesSeen.has(NEXT_DATE) && requests - beforeSwap >= 200);
    stop = true;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(beforeSwap).toBeGreaterThanOrEqual(100);
    expect(requests - beforeSwap).toBeGreaterThanOrEqual(200);
    expect([...datesSeen].sort()).toEqual([SAMPLE_DATE, NEXT_DATE]);

    const after = (await (await fetch(`${base}/api/income`)).json()) as {
      meta: { date: string; total: number };
    };
    expect(after.meta).toMatchObject({ date: NEXT_DATE, total: 91 });
    const old = (await (await fetch(`${base}/api/income?date=${SAMPLE_DATE}`)).json()) as {
      meta: { date: string };
    };
    expect(old.meta.date).toBe(SAMPLE_DATE);
    const catalogue = (await (await fetch(`${base}/api/cubes`)).json()) as { data: { dates: string[] }[] };
    expect(catalogue.data[0]!.dates).toEqual([NEXT_DATE, SAMPLE_DATE]);
  });

  it('changes the ETag with the file, so a client revalidating gets the new data', async () => {
    const db = await sampleCubeDb();
    cleanups.push(db.remove);
    const { base } = await serve(db.cubeDbPath);
    const first = await fetch(`${base}/api/income?limit=1`);
    const etag = first.headers.get('etag')!;
    expect((await fetch(`${base}/api/income?limit=1`, { headers: { 'If-None-Match': etag } })).status).toBe(
      304,
    );

    const next = path.join(db.dir, 'next.db');
    fs.copyFileSync(db.cubeDbPath, next);
    await buildSampleCubeDb(next, NEXT_DATE);
    fs.renameSync(next, db.cubeDbPath);
    await sleep(120);
    const revalidated = await fetch(`${base}/api/income?limit=1`, { headers: { 'If-None-Match': etag } });
    expect(revalidated.status).toBe(200);
    expect(revalidated.headers.get('etag')).not.toBe(etag);
    expect(((await revalidated.json()) as { meta: { date: string } }).meta.date).toBe(NEXT_DATE);
  });

  it('is not ready without a cube db, answers 503 JSON, and becomes ready when the file appears', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-swap-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const cubeDbPath = path.join(dir, 'cube_analytics.db');
    const { base } = await serve(cubeDbPath);

    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { error: { message: string } }).error.message).toMatch(
      /does not exist/,
    );
    const data = await fetch(`${base}/api/income`);
    expect(data.status).toBe(503);
    expect(await data.json()).toEqual({
      error: { code: 'cube_db_unavailable', message: expect.stringMatching(/does not exist/) },
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await buildSampleCubeDb(cubeDbPath, SAMPLE_DATE);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await sleep(60);
    expect((await fetch(`${base}/api/income`)).status).toBe(200);
  });

  it('keeps serving the last snapshot when the file vanishes, and reports not ready', async () => {
    const db = await sampleCubeDb();
    cleanups.push(db.remove);
    const { base } = await serve(db.cubeDbPath);
    expect((await fetch(`${base}/api/income?limit=2`)).status).toBe(200);
    fs.rmSync(db.cubeDbPath);
    await sleep(60);
    const res = await fetch(`${base}/api/income?limit=3`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { meta: { total: number } }).meta.total).toBe(91);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });

  it('keeps the last good snapshot when a corrupt file is renamed in, and recovers with the next good one', async () => {
    const db = await sampleCubeDb();
    cleanups.push(db.remove);
    const { base } = await serve(db.cubeDbPath);
    expect((await fetch(`${base}/api/income?limit=2`)).status).toBe(200);

    const garbage = path.join(db.dir, 'garbage.db');
    fs.writeFileSync(garbage, 'this is not an SQLite database'.repeat(200));
    fs.renameSync(garbage, db.cubeDbPath);
    await sleep(60);
    const res = await fetch(`${base}/api/income?limit=4`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { meta: { date: string } }).meta.date).toBe(SAMPLE_DATE);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { error: { message: string } }).error.message).toMatch(
      /cannot read|not a database/,
    );

    const good = path.join(db.dir, 'good.db');
    await buildSampleCubeDb(good, NEXT_DATE);
    fs.renameSync(good, db.cubeDbPath);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await sleep(60);
    expect(((await (await fetch(`${base}/api/income`)).json()) as { meta: { date: string } }).meta.date).toBe(
      NEXT_DATE,
    );
  });
});
