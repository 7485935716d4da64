// Stopping one service of the local stack (by the pid file the stack script wrote) and bringing it
// back with `npm run stack -- up`, which restarts whatever is not running and waits for readiness.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type StackService = 'kafka' | 'namenode';

function pidOf(root: string, service: StackService): number {
  const file = path.resolve(root, process.env.STACK_DIR ?? 'var/stack', 'run', `${service}.pid`);
  if (!fs.existsSync(file)) throw new Error(`${service} was not started by the stack script (no ${file})`);
  return Number(fs.readFileSync(file, 'utf8').trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals the service's process group (it runs in its own session) and waits until it is gone. */
export async function stopService(
  root: string,
  service: StackService,
  signal: NodeJS.Signals,
  timeoutMs = 60_000,
): Promise<number> {
  const pid = pidOf(root, service);
  try {
    process.kill(-pid, signal);
  } catch {
    process.kill(pid, signal);
  }
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(-pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return pid;
}

/** `bash scripts/stack/stack.sh up`; resolves with the seconds it took, throws on failure. */
export async function stackUp(root: string, logFile: string): Promise<number> {
  const started = Date.now();
  const out = fs.openSync(logFile, 'a');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [path.join(root, 'scripts/stack/stack.sh'), 'up'], {
      cwd: root,
      stdio: ['ignore', out, out],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  fs.closeSync(out);
  if (code !== 0) throw new Error(`stack up failed (exit ${code}); see ${logFile}`);
  return (Date.now() - started) / 1000;
}
