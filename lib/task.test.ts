import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeLeftovers, stopSignal, taskConfig, taskHelp } from './task.ts';

describe('taskConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('overrides the environment with the flags given, and only those', () => {
    process.env.KAFKA_TOPIC = 'from-env';
    process.env.DB_PATH = '/tmp/env.db';
    const config = taskConfig('2026-02-28', { KAFKA_TOPIC: 'from-flag', DB_PATH: undefined });
    expect(config.date).toBe('2026-02-28');
    expect(config.kafka.topic).toBe('from-flag');
    expect(config.sqlite.dbPath).toBe('/tmp/env.db');
  });

  it('keeps RUN_DATE without --date and refuses a date that is not a calendar day', () => {
    process.env.RUN_DATE = '2026-01-15';
    expect(taskConfig(undefined).date).toBe('2026-01-15');
    expect(() => taskConfig('2026-02-30')).toThrow(/2026-02-30/);
  });
});

describe('stopSignal', () => {
  it('resolves on SIGTERM (and on SIGINT), once', async () => {
    const theirs = new Set([...process.listeners('SIGTERM'), ...process.listeners('SIGINT')]);
    const before = process.listenerCount('SIGTERM');
    const stopped = stopSignal();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM');
    await expect(stopped).resolves.toBeUndefined();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const interrupted = stopSignal();
    process.emit('SIGINT');
    await expect(interrupted).resolves.toBeUndefined();
    // The other signal's listener of each stopSignal is still there: ours only are removed.
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      for (const l of process.listeners(signal)) if (!theirs.has(l)) process.off(signal, l);
  });
});

describe('taskHelp', () => {
  it('states the environment read and the exit contract', () => {
    expect(taskHelp(['RUN_DATE', 'LOG_LEVEL'], 'nothing is replaced')).toBe(
      '\nEnvironment: RUN_DATE, LOG_LEVEL.\nExit code 0 on success; 1 with a one-line error on stderr otherwise (nothing is replaced).',
    );
  });
});

describe('removeLeftovers', () => {
  it('removes the entries of gone processes and of this one, keeping live ones and other names', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leftovers-'));
    try {
      // Above Linux's largest pid (2^22): no such process.
      const gone = 4_194_305;
      fs.mkdirSync(path.join(dir, `scratch-${gone}-a`));
      fs.writeFileSync(path.join(dir, `scratch-${gone}-a`, 'bundle.mjs'), 'x');
      fs.writeFileSync(path.join(dir, `scratch-${process.pid}-b`), 'x');
      fs.writeFileSync(path.join(dir, `scratch-${process.ppid}-c`), 'x');
      fs.writeFileSync(path.join(dir, `other-${gone}-d`), 'x');
      removeLeftovers(dir, 'scratch-');
      expect(fs.readdirSync(dir).sort()).toEqual([`other-${gone}-d`, `scratch-${process.ppid}-c`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does nothing when the directory does not exist', () => {
    expect(() => removeLeftovers(path.join(os.tmpdir(), 'no-such-dir-leftovers'), 'x-')).not.toThrow();
  });
});
