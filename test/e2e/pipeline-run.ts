// Runs `npm run pipeline` (scripts/pipeline/cli.ts) for a test, isolated from other runs: its own
// VAR_DIR (SQLite files), Kafka topic and group, and HDFS directories; the stack is the real one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface IsolatedRun {
  name: string;
  varDir: string;
  env: NodeJS.ProcessEnv;
}

/** Environment of an isolated run named `name` (a fresh var dir; a topic unique to this process). */
export function isolatedRun(name: string): IsolatedRun {
  const varDir = path.join(REPO_DIR, 'var', 'e2e', name);
  rmSync(varDir, { recursive: true, force: true });
  mkdirSync(varDir, { recursive: true });
  const topic = `e2e.${name}.${process.pid}.${Date.now()}`;
  return {
    name,
    varDir,
    env: {
      ...process.env,
      VAR_DIR: varDir,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_GROUP_ID: `e2e-${name}`,
      HDFS_RAW_DIR: `/e2e/${name}/raw`,
      HDFS_PROCESSED_DIR: `/e2e/${name}/processed`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
  };
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command to completion, capturing its output (bounded tails). */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 280_000,
): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout = (stdout + c.toString()).slice(-200_000)));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-200_000)));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** `npm run pipeline -- --date D --json [--data DIR]` in the isolated environment. */
export async function runPipeline(iso: IsolatedRun, date: string, dataDir?: string): Promise<ProcessResult> {
  const args = ['--import', 'tsx', 'scripts/pipeline/cli.ts', '--date', date, '--json'];
  return run(process.execPath, dataDir ? [...args, '--data', dataDir] : args, iso.env);
}

/**
 * A copy of data/sample with a few bad rows appended, so every reject counter has a series: a
 * population row with a non-integer Id (producer reject), a population row whose Id no other source
 * has (consumer dead letter, no match), and an income row with a non-integer Id (transform reject).
 */
export function sampleWithRejects(iso: IsolatedRun): string {
  const dir = path.join(iso.varDir, 'data');
  mkdirSync(dir, { recursive: true });
  const extra: Record<string, string[]> = {
    'total-population.csv': ['Not A Place,abc,10,5', 'Nowhere,99999,100,10'],
    'aggregate-household-income-in-the-past-12-months-in-2015-inflation-adjusted-dollars.csv': [
      'Bad Row,xyz,100,10',
    ],
  };
  const sample = path.join(REPO_DIR, 'data', 'sample');
  for (const file of readdirSync(sample).filter((f) => f.endsWith('.csv'))) {
    let text = readFileSync(path.join(sample, file), 'utf8');
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = extra[file];
    if (lines) {
      if (!text.endsWith('\n')) text += eol;
      text += lines.map((line) => line + eol).join('');
    }
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts the API on API_PORT unless something already answers there; returns the process it started. */
export async function ensureApi(iso: IsolatedRun, port = 8000): Promise<ChildProcess | undefined> {
  if (await httpOk(`http://127.0.0.1:${port}/healthz`)) return undefined;
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: REPO_DIR,
    env: { ...iso.env, API_PORT: String(port), API_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  for (let i = 0; i < 60; i++) {
    if (await httpOk(`http://127.0.0.1:${port}/healthz`)) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error(`the API did not start on :${port}: ${stderr.trim().split('\n').pop() ?? ''}`);
}
