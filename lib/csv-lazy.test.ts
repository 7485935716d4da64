// readCsvBatches with `lazyFields`: lines without quotes become UnquotedRecords, the rest goes
// through Papa. Whatever the chunking, the records must be those of the eager reader.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  UnquotedRecord,
  fieldCount,
  readCsvBatches,
  readCsvBatchesWithHeader,
  type CsvRecord,
  type ReadCsvOptions,
} from './csv.ts';

function chunked(text: string, chunkSize: number): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

/** Records as plain data (line, fields, error), whatever their class. */
async function read(text: string, chunkSize: number, options: ReadCsvOptions): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const batch of readCsvBatches(chunked(text, chunkSize), options)) {
    for (const r of batch)
      out.push({ line: r.line, fields: [...r.fields], ...(r.error ? { error: r.error } : {}) });
  }
  return out;
}

const INPUTS: Record<string, string> = {
  'plain LF': 'a,b,c\n1,2,3\n4,5,6\n',
  CRLF: 'a,b,c\r\n1,2,3\r\n4,,6\r\n',
  'empty fields and blank lines': 'a,b,c\n,,\n\n1,,\r\n\r\n,2,\n',
  'quoted commas among plain lines': 'a,b\n1,"1,024"\n2,3\n"x, y",4\n5,6\n',
  'quoted newline and CR': 'a,b\n1,"two\nlines"\n2,"cr\r"\r\n3,4\r\n',
  'doubled quotes': 'a,b\n1,"say ""hi"""\n2,3\n',
  'no final newline': 'a,b\n1,2\n3,4',
  'no final newline, CR': 'a,b\r\n1,2\r\n3,4\r',
  'stray quote mid-field': 'a,b\n1,x"y\n2,3\n',
  'unterminated quote at the end': 'a,b\n1,2\n3,"open\n4,5\n',
  'wrong field counts': 'a,b,c\n1,2\n1,2,3,4\n5,6,7\n',
};

describe('readCsvBatches with lazyFields', () => {
  for (const [name, text] of Object.entries(INPUTS)) {
    it(`reads the same records as the eager reader: ${name}`, async () => {
      const eager = await read(text, 1 << 16, {});
      for (const size of [1, 2, 3, 5, 8, 13, 1 << 16]) {
        expect(await read(text, size, { lazyFields: true }), `chunks of ${size}`).toEqual(eager);
      }
    });
  }

  it('locates the fields of unquoted lines without cutting them, and counts them', async () => {
    const batches = readCsvBatches(Readable.from(['a,,bc\r\n"q,1",2\n']), { lazyFields: true });
    const records: CsvRecord[] = [];
    for await (const batch of batches) records.push(...batch);
    const first = records[0] as UnquotedRecord;
    expect(first).toBeInstanceOf(UnquotedRecord);
    expect([0, 1, 2].map((k) => first.text.slice(first.fieldStart(k), first.fieldEnd(k)))).toEqual([
      'a',
      '',
      'bc',
    ]);
    expect(fieldCount(first)).toBe(3);
    expect(records[1]).not.toBeInstanceOf(UnquotedRecord); // quoted: read by Papa
    expect(records[1]!.fields).toEqual(['q,1', '2']);
  });

  it('marks a reordered record as no longer in place', async () => {
    const text = 'b,a\n2,1\n';
    const records: CsvRecord[] = [];
    for await (const batch of readCsvBatchesWithHeader(Readable.from([text]), ['a', 'b'], 'f.csv', {
      lazyFields: true,
    }))
      records.push(...batch);
    expect(records[0]!.fields).toEqual(['1', '2']);
    expect((records[0] as UnquotedRecord).inPlace).toBe(false);
  });

  it('flags an over-long unquoted record as the eager reader does', async () => {
    const text = 'a,b\n1,2\n123456,7\n';
    const options = { maxRecordChars: 6 };
    const eager = await read(text, 1 << 16, options);
    expect(eager[2]?.error).toMatch(/longer than 6/);
    expect(await read(text, 1 << 16, { ...options, lazyFields: true })).toEqual(eager);
  });
});
