// One cube_analytics.db writer at a time: every run builds a new file from the current one and
// renames it over it, so two concurrent runs would each start from the old file and the last
// rename would drop the other's date. A lock file beside the db, created with O_EXCL and holding
// the writer's pid, makes a second run wait (bounded) or fail with the holder's pid. A lock left
// by a dead process (kill -9) is taken over.
import fs from 'node:fs';
import { isAlive } from '../../lib/task.ts';

/** Another live run holds the lock past the wait. */
export class CubeDbBusyError extends Error {
  override name = 'CubeDbBusyError';
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function holderOf(lockPath: string): number | undefined {
  try {
    return Number(fs.readFileSync(lockPath, 'utf8').trim());
  } catch {
    return undefined; // released between our create attempt and this read
  }
}

/** Runs `fn` holding `lockPath`; waits up to `waitMs` for a live holder, then throws CubeDbBusyError. */
export function withWriteLock<T>(lockPath: string, fn: () => T, waitMs = 60_000, pollMs = 100): T {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = holderOf(lockPath);
    if (holder === undefined) continue;
    // A holder that died left its lock behind; remove it only if it still names that holder.
    if (!isAlive(holder)) {
      if (holderOf(lockPath) === holder) fs.rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() >= deadline)
      throw new CubeDbBusyError(`another compute-cube run (pid ${holder}) is writing; lock ${lockPath}`);
    sleep(pollMs);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}
