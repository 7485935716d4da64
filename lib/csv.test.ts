import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  mapHeader,
  type HeaderMap,
  CsvError,
  formatCsvField,
  formatCsvLine,
  readCsvRecords,
  readCsvRecordsWithHeader,
  type CsvRecord,
} from './csv.ts';

/** Feeds `text` as Buffers of `chunkSize` bytes, so rows and UTF-8 sequences straddle chunks. */
function chunked(text: string, chunkSize = 7): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

async function collect(records: AsyncIterable<CsvRecord>): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

async function read(text: string, chunkSize?: number): Promise<CsvRecord[]> {
  return collect(readCsvRecords(chunked(text, chunkSize)));
}

describe('readCsvRecords', () => {
  it('reads LF and CRLF files to the same fields, numbering lines from 1', async () => {
    const lf = await read('Neighborhood,Id\nAllentown,3\nArlington,4\n');
    const crlf = await read('Neighborhood,Id\r\nAllentown,3\r\nArlington,4\r\n');
    const expected = [
      { line: 1, fields: ['Neighborhood', 'Id'] },
      { line: 2, fields: ['Allentown', '3'] },
      { line: 3, fields: ['Arlington', '4'] },
    ];
    expect(lf).toEqual(expected);
    expect(crlf).toEqual(expected);
  });

  it('handles mixed line endings', async () => {
    expect((await read('a,b\r\nc,d\ne,f\r\n')).map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
  });

  it('keeps a CR that ends a quoted last field (only the CR of a CRLF terminator goes)', async () => {
    for (const size of [1, 3, 64]) {
      expect((await read('a,"x\r"\nb,c\n', size)).map((r) => r.fields)).toEqual([
        ['a', 'x\r'],
        ['b', 'c'],
      ]);
      expect((await read('a,"x\r"\r\n"y\r"\r\n', size)).map((r) => r.fields)).toEqual([
        ['a', 'x\r'],
        ['y\r'],
      ]);
      expect((await read('a,"x\r"', size)).map((r) => r.fields)).toEqual([['a', 'x\r']]);
      // Same batch: unquoted last fields (one holding a stray quote) still lose their CRLF's CR.
      expect((await read('a,"say ""hi""\r"\r\nb,c\r\nd,e"\r\n', size)).map((r) => r.fields)).toEqual([
        ['a', 'say "hi"\r'],
        ['b', 'c'],
        ['d', 'e"'],
      ]);
    }
  });

  it('keeps CRLF inside quotes as data, counting it as one line', async () => {
    expect(await read('"two\r\nlines",x\r\nnext,y\r\n')).toEqual([
      { line: 1, fields: ['two\r\nlines', 'x'] },
      { line: 3, fields: ['next', 'y'] },
    ]);
  });

  it('drops the CR of a last line cut after its CR, quoted or not', async () => {
    expect((await read('a,b\r\nc,d\r')).map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect((await read('a,"b"\r')).map((r) => r.fields)).toEqual([['a', 'b']]);
  });

  it('does not treat a lone CR as a line break: it stays in the field', async () => {
    // Classic Mac (CR-only) files are not supported: such a file reads as one long record, which
    // the header check or the field count then rejects with a clear reason.
    expect((await read('a,b\rc,d\n')).map((r) => r.fields)).toEqual([['a', 'b\rc', 'd']]);
    expect((await read('a\r,b\n')).map((r) => r.fields)).toEqual([['a\r', 'b']]);
  });

  it('strips a UTF-8 BOM from the first cell, even when the BOM straddles chunks', async () => {
    for (const size of [1, 2, 3, 64]) {
      const records = await read('\ufeffNeighborhood,Id\nA,1\n', size);
      expect(records[0]?.fields).toEqual(['Neighborhood', 'Id']);
    }
  });

  it('keeps quoted commas, escaped quotes and quoted newlines, with physical line numbers', async () => {
    const records = await read(
      'a,b\r\n"Spring Hill, City View","say ""hi"""\r\n"two\nlines",x\r\nlast,"1,234"\r\n',
    );
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['Spring Hill, City View', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'x'] },
      { line: 5, fields: ['last', '1,234'] },
    ]);
  });

  it('yields a truncated last line without a newline as it is', async () => {
    expect(await read('a,b,c\n1,2,3\n4,5')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '2', '3'] },
      { line: 3, fields: ['4', '5'] },
    ]);
  });

  it('flags an unterminated quote at the end of the file', async () => {
    const records = await read('a,b\n1,"open\n');
    expect(records[1]?.line).toBe(2);
    expect(records[1]?.error).toMatch(/malformed CSV/);
  });

  it('skips blank lines but keeps counting them', async () => {
    expect(await read('a\n\n\r\nb\n\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 4, fields: ['b'] },
    ]);
  });

  it('decodes multi-byte UTF-8 split across chunks', async () => {
    const records = await read('name\nBrookline – Südhang\n', 1);
    expect(records[1]?.fields).toEqual(['Brookline – Südhang']);
  });

  it('stops with a clear error when a quote swallows more than the record limit (10 MB field)', async () => {
    const huge = `a,b\n1,"${'x'.repeat(10_000_000)}`;
    const stream = Readable.from(
      (function* () {
        for (let i = 0; i < huge.length; i += 65536) yield huge.slice(i, i + 65536);
      })(),
    );
    await expect(collect(readCsvRecords(stream))).rejects.toThrow(
      /record at line 2 is longer than 1048576 characters \(unterminated quote\?\)/,
    );
  });

  it('rejects a complete record longer than the limit without stopping the read', async () => {
    const records = await collect(
      readCsvRecords(Readable.from([`a\n${'y'.repeat(200)}\nok\n`]), { maxRecordChars: 100 }),
    );
    expect(records.map((r) => r.error)).toEqual([undefined, 'record longer than 100 characters', undefined]);
  });
});

describe('readCsvRecordsWithHeader', () => {
  const header = ['Neighborhood', 'Id', 'Estimate; Total', 'Margin of Error; Total'];

  it('yields data records only, flagging wrong field counts', async () => {
    const text = 'Neighborhood,Id,Estimate; Total,Margin of Error; Total\r\nA,1,10,2\r\nB,2,5\r\n';
    const records = await collect(readCsvRecordsWithHeader(chunked(text), header, 'pop.csv'));
    expect(records).toEqual([
      { line: 2, fields: ['A', '1', '10', '2'] },
      { line: 3, fields: ['B', '2', '5'], error: 'expected 4 fields, got 3' },
    ]);
  });

  it('accepts a header-only file with zero rows', async () => {
    const records = await collect(
      readCsvRecordsWithHeader(chunked(`${header.join(',')}\r\n`), header, 'pop.csv'),
    );
    expect(records).toEqual([]);
  });

  it('fails on an empty file with the file name', async () => {
    await expect(collect(readCsvRecordsWithHeader(chunked(''), header, 'pop.csv'))).rejects.toThrow(
      /^pop\.csv: empty file, expected the header/,
    );
  });

  it('fails on a wrong header naming the file and the missing column', async () => {
    const text = 'Neighborhood,ID,Estimate; Total,Margin of Error; Total\nA,1,1,1\n';
    await expect(collect(readCsvRecordsWithHeader(chunked(text), header, 'pop.csv'))).rejects.toThrow(
      'pop.csv: header is missing column "Id" (3 of 4 found)',
    );
  });

  it('matches columns by name: another order reads the same, extra columns are ignored and reported', async () => {
    const inOrder = await collect(
      readCsvRecordsWithHeader(chunked(`${header.join(',')}\nA,1,10,2\nB,2,5,1\n`), header, 'pop.csv'),
    );
    const seen: HeaderMap[] = [];
    const shuffled = await collect(
      readCsvRecordsWithHeader(
        chunked('Note,Margin of Error; Total,Id,Estimate; Total,Neighborhood\nx,2,1,10,A\ny,1,2,5,B\n'),
        header,
        'pop.csv',
        { onHeader: (h) => seen.push(h) },
      ),
    );
    expect(shuffled).toEqual(inOrder);
    expect(seen).toEqual([{ positions: [4, 2, 3, 1], extra: ['Note'], width: 5, identity: false }]);
  });

  it('counts fields against the file header, not the expected one', async () => {
    const text = 'Id,Extra,Neighborhood,Estimate; Total,Margin of Error; Total\n1,e,A,10,2\n2,A,10,2\n';
    const records = await collect(readCsvRecordsWithHeader(chunked(text), header, 'pop.csv'));
    expect(records[0]).toEqual({ line: 2, fields: ['A', '1', '10', '2'] });
    expect(records[1]?.error).toBe('expected 5 fields, got 4');
  });
});

describe('mapHeader', () => {
  const expected = ['Neighborhood', 'Id', 'Estimate; Total'];

  it('maps the exact header to itself, tolerating stray spaces', () => {
    expect(mapHeader(['Neighborhood', ' Id ', 'Estimate; Total'], expected, 'f.csv')).toEqual({
      positions: [0, 1, 2],
      extra: [],
      width: 3,
      identity: true,
    });
  });

  it('names every missing column, or a repeated one, in one line', () => {
    expect(() => mapHeader(['Neighborhood', 'Id', 'Estimate; Totals'], expected, 'f.csv')).toThrow(
      new CsvError('f.csv: header is missing column "Estimate; Total" (2 of 3 found)'),
    );
    expect(() => mapHeader(['Neighborhood'], expected, 'f.csv')).toThrow(
      'f.csv: header is missing columns "Id", "Estimate; Total" (1 of 3 found)',
    );
    expect(() => mapHeader([...expected, ' Id'], expected, 'f.csv')).toThrow(
      'f.csv: header column "Id" appears twice',
    );
  });

  it('lists extra columns and marks a reordered header as not the identity', () => {
    expect(mapHeader(['x', 'Estimate; Total', 'Id', 'Neighborhood'], expected, 'f.csv')).toEqual({
      positions: [3, 2, 1],
      extra: ['x'],
      width: 4,
      identity: false,
    });
  });
});

describe('formatCsvLine', () => {
  it('quotes per RFC 4180 and writes null as an empty cell', () => {
    expect(formatCsvLine(['plain', 12, null, 'a,b', 'say "hi"', 'two\nlines', 1.5, undefined])).toBe(
      'plain,12,,"a,b","say ""hi""","two\nlines",1.5,\n',
    );
  });

  it('writes non-finite numbers as unknown', () => {
    expect(formatCsvField(Number.NaN)).toBe('');
  });

  it('round-trips through readCsvRecords', async () => {
    const rows = [
      ['Neighborhood', 'Id'],
      ['Spring Hill, "City" View', '76'],
      ['', 'x\r\ny'],
      ['ends in CR', 'x\r'],
    ];
    const text = rows.map((r) => formatCsvLine(r)).join('');
    expect((await read(text, 5)).map((r) => r.fields)).toEqual(rows);
  });
});
