import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvError, readCsvBatchesWithHeader, type CsvRecord } from '../../lib/csv.ts';
import { SOURCES, headerOf } from '../../lib/sources.ts';
import type { Reject } from './clean-source.ts';
import {
  EmptySourceError,
  cleanAndJoin,
  joinedColumns,
  type AttributeSource,
  type JoinedRow,
} from './join.ts';
import { formatJoinedRow } from '../../test/fixtures/joined-row.ts';
import { joinedHeaderLine, rejectReason } from './output.ts';

const HEALTH_WIDTH = SOURCES.health_insurance.labels.length * 2;

const header = (s: AttributeSource) =>
  headerOf(SOURCES[s])
    .map((h) => (h.includes(',') ? `"${h}"` : h))
    .join(',');
const healthCells = (v: string) => Array.from({ length: HEALTH_WIDTH }, () => v).join(',');

/** Default rows: Ids 1..3 in every source. */
function files(overrides: Partial<Record<AttributeSource, string>> = {}): Record<AttributeSource, string> {
  return {
    income: `${header('income')}\nAlpha,1,1000,10\nBeta,2,2000.0,20\nGamma,3,3000,30.5\n`,
    health_insurance: `${header('health_insurance')}\n${[1, 2, 3].map((id) => `${['Alpha', 'Beta', 'Gamma'][id - 1]},${id},${healthCells(String(id))}`).join('\n')}\n`,
    self_employment: `${header('self_employment')}\nAlpha,1,10,1,2,1,8,1\nBeta,2,20,1,4,1,16,1\nGamma,3,30,1,6,1,24,1\n`,
    ...overrides,
  };
}

function batches(source: AttributeSource, text: string | Buffer): AsyncIterable<CsvRecord[]> {
  // 64 KiB chunks (a stream's default) so records straddle chunk boundaries as they do over HTTP.
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 65536) chunks.push(buf.subarray(i, i + 65536));
  return readCsvBatchesWithHeader(Readable.from(chunks), headerOf(SOURCES[source]), SOURCES[source].file, {
    maxRecordChars: 16 << 20,
  });
}

async function run(texts: Record<AttributeSource, string | Buffer>) {
  const rows: JoinedRow[] = [];
  const rejects: Reject[] = [];
  const stats = await cleanAndJoin(
    {
      income: batches('income', texts.income),
      health_insurance: batches('health_insurance', texts.health_insurance),
      self_employment: batches('self_employment', texts.self_employment),
    },
    { row: (r) => rows.push(r), reject: (r) => rejects.push(r), drain: () => undefined },
  );
  return {
    rows,
    rejects,
    stats,
    reasons: rejects.map((r) => `${r.source}:${r.line}:${r.code}`),
  };
}

describe('cleanAndJoin', () => {
  it('joins the three sources on Id and cleans numbers', async () => {
    const { rows, rejects, stats } = await run(files());
    expect(rejects).toEqual([]);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(rows[1]!.income).toEqual([2000, 20]);
    expect(rows[2]!.income).toEqual([3000, 30.5]);
    expect(rows[0]!.health).toHaveLength(HEALTH_WIDTH);
    expect(rows[0]!.selfEmployment).toEqual([10, 1, 2, 1, 8, 1]);
    expect(stats.rowsJoined).toBe(3);
    expect(formatJoinedRow(rows[1]!).split(',')).toHaveLength(joinedColumns().length);
    expect(joinedHeaderLine().startsWith('id,neighborhood,income_estimate_aggregate_household_income')).toBe(
      true,
    );
  });

  it('maps ACS markers and empty cells to NULL, never 0, without a reject', async () => {
    const income = `${header('income')}\nAlpha,1,-,**\nBeta,2,N/A,\nGamma,3, 3000 ,(X)\n`;
    const { rows, rejects } = await run(files({ income }));
    expect(rejects).toEqual([]);
    expect(rows.map((r) => r.income)).toEqual([
      [null, null],
      [null, null],
      [3000, null],
    ]);
    expect(formatJoinedRow(rows[0]!)).toMatch(/^1,Alpha,,,/);
  });

  it('keeps a row with a bad cell, the cell NULL, and records why', async () => {
    const income = `${header('income')}\nAlpha,1,abc,10\nBeta,2,-5,20\nGamma,3,12.5,30\n`;
    const { rows, rejects, stats } = await run(files({ income }));
    expect(rows.map((r) => r.income[0])).toEqual([null, null, null]);
    expect(rows.map((r) => r.income[1])).toEqual([10, 20, 30]);
    expect(rejects.map(rejectReason)).toEqual([
      expect.stringMatching(/^bad_cell: income_estimate_aggregate.*not a number: "abc"; kept as NULL$/),
      expect.stringMatching(/^bad_cell: .*negative count: -5/),
      expect.stringMatching(/^bad_cell: .*not an integer: 12.5/),
    ]);
    expect(rejects[0]).toMatchObject({ source: 'income', line: 2, id: '1', raw: 'abc' });
    expect(stats.rowsDropped).toBe(0);
  });

  it('rejects bad and missing keys with the reason, and the partner rows as unmatched', async () => {
    const income = `${header('income')}\nAlpha,x1,1000,10\nBeta,,2000,20\nGamma,3,3000,30\n`;
    const { rows, reasons } = await run(files({ income }));
    expect(rows.map((r) => r.id)).toEqual([3]);
    expect(reasons).toEqual([
      'income:2:bad_key',
      'income:3:bad_key',
      'health_insurance:2:missing_in_income',
      'self_employment:2:missing_in_income',
      'health_insurance:3:missing_in_income',
      'self_employment:3:missing_in_income',
    ]);
  });

  it('keeps the first of duplicate Ids in every source and rejects the later ones', async () => {
    const income = `${header('income')}\nAlpha,1,1000,10\nAlpha,1,9999,99\nBeta,2,2000,20\nGamma,3,3000,30\n`;
    const f = files({ income });
    const health = f.health_insurance.replace(/\n$/, `\nBeta,2,${healthCells('7')}\n`);
    const { rows, rejects } = await run({ ...f, health_insurance: health });
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(rows[0]!.income).toEqual([1000, 10]);
    expect(rows[1]!.health[0]).toBe(2);
    expect(rejects.map((r) => [r.source, r.line, rejectReason(r)])).toEqual([
      ['income', 3, 'duplicate_key: Id 1 already at line 2; first occurrence kept'],
      ['health_insurance', 5, 'duplicate_key: Id 2 already at line 3; first occurrence kept'],
    ]);
    expect(rejects[0]!.raw).toBe('Alpha,1,9999,99');
  });

  it('is an inner join: an Id missing from any source is rejected everywhere with the reason', async () => {
    const self_employment = `${header('self_employment')}\nAlpha,1,10,1,2,1,8,1\nGamma,3,30,1,6,1,24,1\nDelta,4,1,1,1,1,0,1\n`;
    const { rows, reasons, stats } = await run(files({ self_employment }));
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
    expect(reasons).toEqual([
      'health_insurance:3:missing_in_self_employment',
      'income:3:missing_in_self_employment',
      'self_employment:4:missing_in_health_insurance',
    ]);
    // Every input row is either joined or rejected.
    const inputRows = stats.rowsIn.income + stats.rowsIn.health_insurance + stats.rowsIn.self_employment;
    expect(inputRows).toBe(stats.rowsJoined * 3 + stats.rowsDropped);
  });

  it('rejects truncated rows and rows with extra columns', async () => {
    const income = `${header('income')}\nAlpha,1,1000\nBeta,2,2000,20,extra\nGamma,3,3000,30\n`;
    const { rows, rejects } = await run(files({ income }));
    expect(rows.map((r) => r.id)).toEqual([3]);
    expect(rejects.slice(0, 2).map(rejectReason)).toEqual([
      'column_count: expected 4 fields, got 3',
      'column_count: expected 4 fields, got 5',
    ]);
    expect(rejects[0]!.raw).toBe('Alpha,1,1000');
  });

  it('reads a BOM, CRLF line ends and quoted commas', async () => {
    const income = `\ufeff${header('income')}\r\n"Alpha, North",1,"1,000",10\r\nBeta,2,2000,20\r\nGamma,3,3000,30\r\n`;
    const f = files({ income });
    const health = f.health_insurance.replace('Alpha,1,', '"Alpha, North",1,').replaceAll('\n', '\r\n');
    const se = f.self_employment.replace('Alpha,1,', '"Alpha, North",1,');
    const { rows, rejects } = await run({ income, health_insurance: health, self_employment: se });
    expect(rejects).toEqual([]);
    expect(rows[0]).toMatchObject({ id: 1, neighborhood: 'Alpha, North', income: [1000, 10] });
    expect(formatJoinedRow(rows[0]!)).toMatch(/^1,"Alpha, North",1000,10,/);
    expect(rows[0]!.health.at(-1)).toBe(1);
  });

  it('records a neighborhood name that differs between sources, keeping income’s', async () => {
    const se = files().self_employment.replace('Beta,2,', 'Betta,2,');
    const { rows, rejects } = await run(files({ self_employment: se }));
    expect(rows[1]!.neighborhood).toBe('Beta');
    expect(rejects).toMatchObject([{ source: 'self_employment', line: 3, code: 'neighborhood_mismatch' }]);
  });

  it('turns a 10 MB cell into NULL with a short reason and keeps every other row', async () => {
    const big = '9'.repeat(5) + 'x'.repeat(10 << 20);
    const income = `${header('income')}\nAlpha,1,${big},10\nBeta,2,2000,20\nGamma,3,3000,30\n`;
    const { rows, rejects } = await run(files({ income }));
    expect(rows.map((r) => r.income[0])).toEqual([null, 2000, 3000]);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.code).toBe('bad_cell');
    expect(rejectReason(rejects[0]!).length).toBeLessThan(200);
    expect(rejects[0]!.raw.length).toBeLessThan(5000);
  });

  it('fails on an empty file, a wrong header and a header-only file, naming the file', async () => {
    await expect(run(files({ income: '' }))).rejects.toThrow(CsvError);
    await expect(run(files({ income: '' }))).rejects.toThrow(/aggregate-household-income.*empty file/);
    await expect(run(files({ self_employment: 'Neighborhood,Id,Total\n' }))).rejects.toThrow(
      /^self-employment-income[^:]*: header is missing columns "Estimate; Total:", "Margin of Error; Total:", "Estimate; Total: - With self-employment income" and 3 more \(2 of 8 found\)$/,
    );
    await expect(run(files({ health_insurance: `${header('health_insurance')}\n` }))).rejects.toThrow(
      EmptySourceError,
    );
    await expect(run(files({ income: `${header('income')}\n` }))).rejects.toThrow(
      /aggregate-household-income.*header only/,
    );
  });
});

describe('JoinedRowEncoder', () => {
  it('writes the same bytes as formatJoinedRow, across chunk boundaries', async () => {
    const { JoinedRowEncoder } = await import('./output.ts');
    const rows: JoinedRow[] = [
      {
        id: 1,
        neighborhood: 'Alpha, North',
        income: [0, 12.5],
        health: [null, 7, 1e14, 9007199254740991],
        selfEmployment: [3, null],
      },
      { id: 22, neighborhood: 'Chateau', income: [null, null], health: [1, 2], selfEmployment: [] },
      { id: 3, neighborhood: 'Zoë "Z"', income: [1234567.043, 10], health: [], selfEmployment: [0.1] },
    ];
    const chunks: Buffer[] = [];
    const encoder = new JoinedRowEncoder((c) => chunks.push(Buffer.from(c)), 64);
    for (let i = 0; i < 20; i++) for (const r of rows) encoder.write(r);
    encoder.flush();
    expect(chunks.length).toBeGreaterThan(1);
    const expected = Array.from({ length: 20 }, () => rows.map(formatJoinedRow).join('')).join('');
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
  });
});
