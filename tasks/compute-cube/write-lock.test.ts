import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CubeDbBusyError, withWriteLock } from './write-lock.ts';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cube-lock-'));
  lock = path.join(dir, 'cube.db.lock');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pid that no process has any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('withWriteLock', () => {
  it('holds the lock with its pid while running, and releases it after, even on a throw', () => {
    expect(withWriteLock(lock, () => fs.readFileSync(lock, 'utf8').trim())).toBe(String(process.pid));
    expect(fs.existsSync(lock)).toBe(false);
    expect(() =>
      withWriteLock(lock, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('fails with the holder after a bounded wait while a live run holds the lock', () => {
    fs.writeFileSync(lock, `${process.ppid}\n`);
    const started = Date.now();
    expect(() => withWriteLock(lock, () => 'ran', 300, 50)).toThrow(CubeDbBusyError);
    expect(() => withWriteLock(lock, () => 'ran', 0)).toThrow(`pid ${process.ppid}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fs.readFileSync(lock, 'utf8').trim()).toBe(String(process.ppid));
  });

  it('takes over a lock left by a dead process', async () => {
    fs.writeFileSync(lock, `${await deadPid()}\n`);
    expect(withWriteLock(lock, () => 'ran', 0)).toBe('ran');
  });

  it('runs once the holder releases the lock within the wait', async () => {
    const holder = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(lock)}, process.pid + '\\n', { flag: 'wx' }); setTimeout(() => require('fs').rmSync(${JSON.stringify(lock)}), 300)`,
    ]);
    while (!fs.existsSync(lock)) await new Promise((r) => setTimeout(r, 10));
    expect(withWriteLock(lock, () => 'ran', 5000, 20)).toBe('ran');
    await new Promise((resolve) => holder.on('exit', resolve));
  });
});
