import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOURCES, headerOf, type SourceName } from '../../lib/sources.ts';
import { JOINED_SOURCES, quoteIdent, transformAnchorSql } from './transform-sql.ts';

function csvLine(cells: string[]): string {
  return cells.map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',');
}

/** A source file whose measure cells are all `fill`, with the given (neighborhood, id) rows. */
function writeSource(dir: string, source: SourceName, rows: [string, string, string][]): string {
  const header = headerOf(SOURCES[source]);
  const lines = rows.map(([name, id, fill]) => csvLine([name, id, ...header.slice(2).map(() => fill)]));
  const file = path.join(dir, SOURCES[source].file);
  fs.writeFileSync(file, [csvLine(header), ...lines].join('\r\n') + '\r\n');
  return file;
}

describe('transformAnchorSql (DuckDB clean-and-join)', () => {
  it('cleans markers to NULL, reads separators, rejects bad and duplicate keys, inner-joins on Id', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-anchor-'));
    const inputs = {} as Record<SourceName, string>;
    inputs.income = writeSource(dir, 'income', [
      ['  Allegheny   Center ', '1', '1,234'],
      ['B', '2.0', '**'],
      ['C', 'x', '5'],
      ['D', '3', '2558.0'],
      ['D2', '3', '7'],
      ['E', '4', '12.5'],
    ]);
    inputs.health_insurance = writeSource(dir, 'health_insurance', [
      ['A', '1', '10'],
      ['B', '2', ''],
      ['D', '3', '3'],
      ['E', '4', '-'],
    ]);
    inputs.self_employment = writeSource(dir, 'self_employment', [
      ['A', '1', ' 7 '],
      ['B', '2', 'N/A'],
      ['E', '4', '9'],
    ]);
    const out = path.join(dir, 'out.csv');
    const rejects = path.join(dir, 'rejects.csv');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    for (const sql of transformAnchorSql(inputs, out, rejects)) await db.run(sql);
    const rows = (
      await db.runAndReadAll(`SELECT * FROM read_csv('${out}', all_varchar = true)`)
    ).getRowObjects();
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows.map((r) => r.id)).toEqual(['1', '2', '4']);
    const incomeCol =
      'income_estimate_aggregate_household_income_in_the_past_12_months_in_2015_inflation_adjusted_dollars';
    expect(rows[0]).toMatchObject({ neighborhood: 'Allegheny Center', [incomeCol]: '1234' });
    expect(rows[1]![incomeCol]).toBeNull(); // `**` is unknown, never 0
    expect(rows[2]![incomeCol]).toBeNull(); // 12.5 is not a count: NULL, as the task keeps it
    expect(Object.keys(rows[0]!)).toHaveLength(
      2 + JOINED_SOURCES.reduce((n, s) => n + (headerOf(SOURCES[s]).length - 2), 0),
    );
    const rejected = (
      await db.runAndReadAll(
        `SELECT source, id, reason FROM read_csv('${rejects}', all_varchar = true) ORDER BY ALL`,
      )
    ).getRows();
    expect(rejected).toEqual([
      ['income', '3', 'duplicate_key'],
      ['income', '3', 'duplicate_key'],
      ['income', 'x', 'bad_key'],
    ]);
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});
