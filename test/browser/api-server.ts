// The API for the browser tests: the real server (api/server.ts, one process) over a cube db built from
// data/sample by the real cube code, on :8000 when that port is free (the port the demo and the README
// print), else on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { perFile } from '../fixtures/per-file.ts';
import { buildSampleCubeDb } from '../fixtures/sample-cubes.ts';
import { REPO_DIR } from '../airflow/airflow-stack.ts';

export const SAMPLE_DATE = '2026-01-24';

export interface RunningApi {
  port: number;
  url: string;
  stop(): Promise<void>;
}

function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

export async function startApi(): Promise<RunningApi> {
  const port = (await listenable(8000)) ?? (await listenable(0));
  if (port === undefined) throw new Error('no free port for the API');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'browser-api-'));
  const cubeDb = path.join(dir, 'cube_analytics.db');
  await buildSampleCubeDb(cubeDb, SAMPLE_DATE);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: REPO_DIR,
    env: {
      ...process.env,
      API_PORT: String(port),
      API_HOST: '127.0.0.1',
      API_WORKERS: '1',
      CUBE_DB: cubeDb,
      VAR_DIR: dir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-10_000)));
  const url = `http://localhost:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 120; i++) {
    if (await healthy(url)) return { port, url, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`the API did not start on :${port}: ${stderr.trim().split('\n').pop() ?? ''}`);
}

/** The API for the tests of one file (see perFile): started before them, stopped after them. */
export function useApi(): () => RunningApi {
  return perFile('the API', startApi, (api) => api.stop(), 120_000);
}
