// transform-hdfs against the real WebHDFS: the CLI as a process, as the DAG runs it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { loadConfig } from '../../lib/config.ts';
import { formatCsvLine } from '../../lib/csv.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { SOURCES, headerOf } from '../../lib/sources.ts';
import { SAMPLE_DIR } from '../../test/fixtures/sample-cubes.ts';
import { joinedColumns } from './join.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'tasks/transform-hdfs/cli.ts');
const hdfs = HdfsClient.fromConfig(loadConfig().hdfs);
const base = `/it/transform-${randomBytes(4).toString('hex')}`;
const sampleRaw = `${base}/raw`;
const bigRaw = `${base}/raw-big`;
const out = `${base}/processed`;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function transform(
  args: string[],
  env: Record<string, string> = {},
  onSpawn?: (pid: number) => void,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, PUSHGATEWAY_URL: '', LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (child.pid !== undefined) onSpawn?.(child.pid);
  });
}

/** The sample, each attribute file repeated with fresh Ids until it has `rows` rows (a long write). */
function bigFile(file: string, rows: number): string {
  const [header, ...lines] = fs.readFileSync(path.join(SAMPLE_DIR, file), 'utf8').trimEnd().split('\n');
  const out: string[] = [header!];
  for (let i = 0; out.length <= rows; i++) {
    const line = lines[i % lines.length]!;
    const comma = line.indexOf(',', line.startsWith('"') ? line.indexOf('"', 1) : 0);
    const rest = line.slice(line.indexOf(',', comma + 1));
    out.push(`N${i + 1},${i + 1}${rest}`);
  }
  return `${out.join('\n')}\n`;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Rewrites every record of a CSV text (parsed by papaparse, written by our own formatter). */
function mapCsv(text: string, edit: (cells: string[], index: number) => string[]): string {
  const { data } = Papa.parse<string[]>(text.trimEnd(), { newline: '\n' });
  return data
    .map((cells, i) =>
      formatCsvLine(
        edit(
          cells.map((c) => c.replace(/\r$/, '')),
          i,
        ),
      ),
    )
    .join('');
}

/** The income file with its columns reversed and an extra "Note" column first. */
const shuffledIncome = (text: string) =>
  mapCsv(text, (cells, i) => [i === 0 ? 'Note' : `n${i}`, ...cells.reverse()]);

const dropLastColumn = (text: string) => mapCsv(text, (cells) => cells.slice(0, -1));

const ATTRIBUTE_FILES = [SOURCES.income.file, SOURCES.health_insurance.file, SOURCES.self_employment.file];

beforeAll(async () => {
  await hdfs.mkdirs(sampleRaw);
  await hdfs.mkdirs(bigRaw);
  for (const file of ATTRIBUTE_FILES) {
    await hdfs.writeFile(`${sampleRaw}/${file}`, fs.createReadStream(path.join(SAMPLE_DIR, file)));
    await hdfs.writeFile(`${bigRaw}/${file}`, bigFile(file, 30_000));
  }
});

afterAll(async () => {
  await hdfs.delete(base, true);
});

describe('transform-hdfs on the real WebHDFS', () => {
  it('cleans and joins the real sample into the three files of the date and the latest copy', async () => {
    const run = await transform(['--date', '2026-03-01', '--raw-dir', sampleRaw, '--out-dir', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { rowsJoined: number; rejectLines: number };
    expect(summary).toMatchObject({ rowsJoined: 91, rejectLines: 0 });

    const dated = `${out}/date=2026-03-01`;
    expect((await hdfs.list(dated)).map((e) => e.name)).toEqual([
      'all_data_joined.csv',
      'columns.json',
      'rejects.csv',
    ]);
    const joined = await hdfs.readText(`${dated}/all_data_joined.csv`);
    const lines = joined.trimEnd().split('\n');
    expect(lines).toHaveLength(92);
    expect(lines[0]).toBe(joinedColumns().join(','));
    // Chateau's income is unknown: NULL (empty), never 0.
    expect(lines.find((l) => l.startsWith('22,Chateau,'))).toMatch(/^22,Chateau,,,3,/);
    expect(await hdfs.readText(`${out}/all_data_joined.csv`)).toBe(joined);
    expect(await hdfs.readText(`${dated}/rejects.csv`)).toBe('source,line,id,reason,raw\n');
    const columns = JSON.parse(await hdfs.readText(`${dated}/columns.json`)) as {
      sources: Record<string, { columns: { header: string; column: string }[] }>;
    };
    expect(columns.sources.health_insurance!.columns[2]).toEqual({
      header: 'Estimate; Under 18 years:',
      column: 'health_insurance_estimate_under_18_years',
    });
  });

  it('leaves the previous all_data_joined.csv readable and intact when killed (SIGKILL) mid-write', async () => {
    const first = await transform(['--date', '2026-03-02', '--raw-dir', sampleRaw, '--out-dir', out]);
    expect(first.code).toBe(0);
    const before = await hdfs.readText(`${out}/all_data_joined.csv`);

    let pid = 0;
    const killed = transform(
      ['--date', '2026-03-03', '--raw-dir', bigRaw, '--out-dir', out],
      {},
      (p) => (pid = p),
    );
    // Kill once the run is streaming its temporary outputs.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const names = (await hdfs.list(out)).map((e) => e.name);
      if (names.some((n) => n.startsWith('.all_data_joined.csv.tmp-'))) break;
      if (Date.now() > deadline) throw new Error('the transform never started writing');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const exit = await killed;
    expect(exit.signal).toBe('SIGKILL');

    expect(await hdfs.readText(`${out}/all_data_joined.csv`)).toBe(before);
    expect(await hdfs.exists(`${out}/date=2026-03-03/all_data_joined.csv`)).toBe(false);

    // The next run of that date completes and clears the killed run's temporaries.
    const rerun = await transform(['--date', '2026-03-03', '--raw-dir', bigRaw, '--out-dir', out]);
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ rowsJoined: 30_000 });
    const names = [...(await hdfs.list(out)), ...(await hdfs.list(`${out}/date=2026-03-03`))].map(
      (e) => e.name,
    );
    expect(names.filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('fails with one line naming the NameNode, exit code 1 and no output when the NameNode is unreachable', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = await transform(
      ['--date', '2026-03-04', '--raw-dir', sampleRaw, '--out-dir', `${base}/down`],
      { HDFS_URL: url },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringContaining(`NameNode unreachable at ${url}`),
    ]);
    expect(await hdfs.exists(`${base}/down`)).toBe(false);
  });

  it('matches columns by header name: reordered columns join the same, extra ones are listed', async () => {
    const reordered = `${base}/raw-reordered`;
    await hdfs.mkdirs(reordered);
    for (const file of ATTRIBUTE_FILES) {
      const text = fs.readFileSync(path.join(SAMPLE_DIR, file), 'utf8');
      await hdfs.writeFile(
        `${reordered}/${file}`,
        file === SOURCES.income.file ? shuffledIncome(text) : text,
      );
    }
    const plain = await transform([
      '--date',
      '2026-03-06',
      '--raw-dir',
      sampleRaw,
      '--out-dir',
      `${base}/p1`,
    ]);
    const shuffled = await transform([
      '--date',
      '2026-03-06',
      '--raw-dir',
      reordered,
      '--out-dir',
      `${base}/p2`,
    ]);
    expect([plain.code, shuffled.code]).toEqual([0, 0]);
    expect(JSON.parse(shuffled.stdout)).toMatchObject({ ignoredColumns: { income: ['Note'] } });
    expect(JSON.parse(plain.stdout)).toMatchObject({ ignoredColumns: {} });
    for (const file of ['all_data_joined.csv', 'rejects.csv']) {
      expect(await hdfs.readText(`${base}/p2/date=2026-03-06/${file}`)).toBe(
        await hdfs.readText(`${base}/p1/date=2026-03-06/${file}`),
      );
    }
  });

  it('fails with one line naming a missing required column and writes nothing', async () => {
    const raw = `${base}/raw-no-margin`;
    await hdfs.mkdirs(raw);
    for (const file of ATTRIBUTE_FILES) {
      let text = fs.readFileSync(path.join(SAMPLE_DIR, file), 'utf8');
      if (file === SOURCES.income.file) text = dropLastColumn(text);
      await hdfs.writeFile(`${raw}/${file}`, text);
    }
    const run = await transform(['--date', '2026-03-07', '--raw-dir', raw, '--out-dir', `${base}/no-margin`]);
    expect(run.code).toBe(1);
    const lastHeader = headerOf(SOURCES.income).at(-1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `transform-hdfs: ${SOURCES.income.file}: header is missing column ${JSON.stringify(lastHeader)} (3 of 4 found)`,
    ]);
    expect(await hdfs.exists(`${base}/no-margin/date=2026-03-07/all_data_joined.csv`)).toBe(false);
  });

  it('fails with one line naming a missing input file and writes nothing', async () => {
    const run = await transform([
      '--date',
      '2026-03-05',
      '--raw-dir',
      `${base}/nothing-here`,
      '--out-dir',
      `${base}/missing`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `transform-hdfs: input missing: hdfs://${base}/nothing-here/${SOURCES.income.file} (${SOURCES.income.file})`,
    ]);
    expect(await hdfs.exists(`${base}/missing`)).toBe(false);
  });
});
