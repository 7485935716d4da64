// The chaos suite's module structure and pure parts (the suite itself needs the local stack and runs
// in bench/chaos.int.test.ts): nothing happens at import, one fault per file, the seeded kill points,
// the option parsing and the report.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chaosProgram, chaosSizes } from '../chaos.ts';
import { mulberry32 } from './context.ts';
import { FAULTS, FAULT_NAMES } from './faults/index.ts';
import { missedRow, notCompletedRow, renderReport } from './report.ts';
import { EMPTY_TALLY, eventTallies } from './verify.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** tsx's loader by absolute URL: the child runs in an empty directory, where `tsx` would not resolve. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('bench/chaos.ts', () => {
  it('does nothing at import: no run, no file, no client', () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-import-'));
    const entry = path.join(here, '..', 'chaos.ts');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        tsxLoader,
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(entry)}); console.log('imported');`,
      ],
      { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1' } },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('imported');
    expect(run.status).toBe(0);
    expect(fs.readdirSync(cwd)).toEqual([]);
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('holds one fault per file under chaos/faults/, each with its own name', () => {
    const files = fs
      .readdirSync(path.join(here, 'faults'))
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'));
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual([...FAULT_NAMES].sort());
    expect(new Set(FAULTS.map((f) => f.title)).size).toBe(FAULTS.length);
    // The NameNode fault first: it leaves the joined file the consumer faults need.
    expect(FAULT_NAMES[0]).toBe('namenode');
  });

  it('parses --only against the fault names and rejects an unknown one', () => {
    const program = chaosProgram()
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });
    expect(
      program.parse(['--only', 'namenode,producer-kill', '--seed', '7'], { from: 'user' }).opts(),
    ).toEqual({
      only: ['namenode', 'producer-kill'],
      seed: '7',
    });
    expect(() =>
      chaosProgram()
        .exitOverride()
        .configureOutput({ writeErr: () => undefined })
        .parse(['--only', 'disk'], { from: 'user' }),
    ).toThrow(/unknown fault "disk"/);
    expect(chaosSizes(true)).toMatchObject({ loops: 5, kills: 5, nnRuns: 1 });
  });
});

describe('mulberry32', () => {
  it('draws the same kill points for a seed as the suite always did', () => {
    const random = mulberry32(20261128);
    expect([random(), random(), random()]).toEqual([
      0.9627261769492179, 0.18837198405526578, 0.3504589442163706,
    ]);
    const again = mulberry32(20261128);
    expect(again()).toBe(0.9627261769492179);
  });
});

describe('eventTallies', () => {
  const ev = (eventId: string, partition: number, offset: number) => ({
    eventId,
    loop: 1,
    id: 1,
    partition,
    offset,
  });

  it('counts lost events by id and a message stored twice under two ids as a duplicate', () => {
    const expected = [ev('a', 0, 0), ev('b', 0, 1), ev('c', 1, 0)];
    expect(eventTallies(expected, [ev('a', 0, 0), ev('b', 0, 1)])).toMatchObject({ lost: 1, duplicated: 0 });
    expect(eventTallies(expected, [...expected, ev('x', 1, 0)])).toMatchObject({
      lost: 0,
      duplicated: 1,
      unexpected: 1,
    });
  });
});

describe('report', () => {
  it('renders a table row per fault and the details under it', () => {
    const out = renderReport([
      { fault: 'f1', runs: 2, tally: { ...EMPTY_TALLY, lost: 1 }, ok: false, landed: 'yes', detail: 'd1' },
      missedRow('f2', ['try 1: missed', 'try 2: missed']),
      notCompletedRow('f3', 'broker gone\nstack'),
    ]);
    expect(out).toMatch(/\| fault\s+\| runs \| lost \| duplicated \| fault landed\s+\| result \|/);
    expect(out).toMatch(/\| f1\s+\|\s+2 \|\s+1 \|\s+0 \| yes\s+\| FAIL\s+\|/);
    expect(out).toContain('- f2: try 1: missed; try 2: missed');
    expect(out).toContain('- f3: did not complete: broker gone\n');
  });
});
