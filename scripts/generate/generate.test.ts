import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { headerOf, SOURCE_NAMES, SOURCES } from '../../lib/sources.ts';
import { generateFiles, readKnownRows } from './generate.ts';

const sampleDir = new URL('../../data/sample/', import.meta.url).pathname;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'generate-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('generateFiles', () => {
  it('writes the four files for N = 1, header and one row each, and no temporary file', async () => {
    const dir = await tempDir();
    const files = await generateFiles({
      rows: 1,
      outDir: dir,
      seed: 's',
      dirty: 0,
      sources: SOURCE_NAMES,
      lineEnding: 'lf',
    });
    expect(files.map((f) => path.basename(f.path)).sort()).toEqual(
      SOURCE_NAMES.map((n) => SOURCES[n].file).sort(),
    );
    expect((await readdir(dir)).length).toBe(4);
    for (const name of SOURCE_NAMES) {
      const lines = (await readFile(path.join(dir, SOURCES[name].file), 'utf8')).split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe(headerOf(SOURCES[name]).join(','));
      expect(lines[1]).toMatch(/^[^,]+,1,/);
      expect(lines[2]).toBe('');
    }
  });

  it('writes the same bytes with worker threads as in process', { timeout: 60_000 }, async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const base = { rows: 3000, seed: 'w', dirty: 0.05, sources: SOURCE_NAMES, lineEnding: 'crlf' } as const;
    await generateFiles({ ...base, outDir: a, workers: 0 });
    await generateFiles({ ...base, outDir: b, workers: 2 });
    for (const name of SOURCE_NAMES) {
      const file = SOURCES[name].file;
      expect((await readFile(path.join(b, file))).equals(await readFile(path.join(a, file)))).toBe(true);
    }
  });

  it('rejects a row count out of range', async () => {
    const dir = await tempDir();
    const base = { outDir: dir, seed: 1, dirty: 0, sources: SOURCE_NAMES, lineEnding: 'lf' } as const;
    await expect(generateFiles({ ...base, rows: 0 })).rejects.toThrow(
      'rows must be an integer from 1 to 10000000',
    );
    await expect(generateFiles({ ...base, rows: 10_000_001 })).rejects.toThrow(/rows must be/);
  });
});

describe('the sample self-employment file', () => {
  it('takes Ids and names from the real population file and is reproduced by the documented command', async () => {
    const known = await readKnownRows(path.join(sampleDir, SOURCES.population.file));
    expect(known).toHaveLength(91);
    expect(known[2]).toEqual({ id: 3, neighborhood: 'Allentown', population: 2558 });
    const dir = await tempDir();
    // The options of: npm run generate -- --ids-from data/sample/total-population.csv
    //   --sources self_employment --seed 2015 --line-ending crlf --out data/sample
    await generateFiles({
      rows: 0,
      known,
      outDir: dir,
      seed: '2015',
      dirty: 0,
      sources: ['self_employment'],
      lineEnding: 'crlf',
    });
    const file = SOURCES.self_employment.file;
    const regenerated = await readFile(path.join(dir, file));
    expect(regenerated.equals(await readFile(path.join(sampleDir, file)))).toBe(true);
    const lines = regenerated.toString('utf8').split('\r\n');
    expect(lines[1]?.startsWith('Allegheny Center,1,')).toBe(true);
    // Households stay below the population of the neighborhood.
    for (const [i, line] of lines.slice(1, -1).entries()) {
      const households = Number(line.split(',')[2]);
      expect(households).toBeLessThanOrEqual(known[i]?.population ?? 0);
    }
  });
});
