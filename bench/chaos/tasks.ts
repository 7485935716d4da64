// The pipeline's task CLIs as child processes of the chaos suite: started in their own process group
// (so a SIGKILL takes their workers too), logged to the run's log directory, re-run as the DAG's
// retries would.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sleep, type ChaosContext } from './context.ts';

export const TRANSFORM = 'tasks/transform-hdfs/cli.ts';
export const PRODUCER = 'tasks/producer/cli.ts';
export const CONSUMER = 'tasks/consumer/cli.ts';

export interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  started: number;
}

/** A repo CLI in its own process group, logs to the run's log directory. */
export function start(ctx: ChaosContext, label: string, file: string, args: string[]): Running {
  fs.mkdirSync(ctx.logs, { recursive: true });
  const log = fs.openSync(path.join(ctx.logs, `${label.replace(/[^a-zA-Z0-9._-]+/g, '-')}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ctx.root, file), ...args], {
    cwd: ctx.root,
    env: { ...process.env, ...ctx.env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      fs.closeSync(log);
      resolve({ code, signal });
    }),
  );
  return { child, exited, started: Date.now() };
}

export async function runToEnd(
  ctx: ChaosContext,
  label: string,
  file: string,
  args: string[],
): Promise<number | null> {
  return (await start(ctx, label, file, args).exited).code;
}

/** Re-runs a task until it exits 0 (the DAG's retries); returns the attempts used. */
export async function retryUntilSuccess(
  ctx: ChaosContext,
  label: string,
  file: string,
  args: string[],
  attempts = 5,
): Promise<number> {
  for (let i = 1; i <= attempts; i++) {
    if ((await runToEnd(ctx, `${label} retry ${i}`, file, args)) === 0) return i;
    await sleep(2000);
  }
  throw new Error(`${label} still failing after ${attempts} attempts; see ${ctx.logs}`);
}

export const running = (run: Running): boolean =>
  run.child.exitCode === null && run.child.signalCode === null;

/** Polls `done()` until it reaches `target` or the task exits; resolves with the last value seen. */
export async function waitForProgress(
  run: Running,
  target: number,
  done: () => Promise<number> | number,
): Promise<number> {
  let seen = await done();
  while (running(run) && seen < target) {
    await sleep(20);
    seen = await done();
  }
  return seen;
}

/** Waits for the exit at most `ms`; a task still running then is SIGKILLed (exit code -1). */
export async function exitWithin(
  run: Running,
  ms: number,
  kill: () => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exit = await Promise.race([run.exited, sleep(ms).then(() => ({ code: -1, signal: null }))]);
  if (exit.code === -1) kill();
  return exit;
}
