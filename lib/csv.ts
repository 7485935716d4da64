// Streaming CSV on papaparse's core parser. We drive it chunk by chunk ourselves (instead of its
// Node Duplex) so that: reading is pull-based (`for await` gives backpressure, memory is one chunk
// plus one partial row), every record carries its physical line number for rejects files, and an
// over-long row (an unterminated quote swallowing the rest of the file) stops with a clear error
// instead of growing a buffer without bound. Papa's fast path (no quote in a chunk -> plain split)
// is what makes wide numeric files cheap.
import { StringDecoder } from 'node:string_decoder';
import Papa from 'papaparse';

export interface CsvRecord {
  /** Physical line of the record's first character, 1-based (line 1 is the header). */
  line: number;
  fields: string[];
  /** Set when the record is malformed (bad quoting, wrong field count, too long): reject it. */
  error?: string;
}

export interface ReadCsvOptions {
  /**
   * Lines without a quote become UnquotedRecords: their fields are located in the chunk's text and
   * only cut out into strings when read (see UnquotedRecord). Off by default.
   */
  lazyFields?: boolean;
  /**
   * Longest accepted record, in characters. A longer complete record is yielded with `error`; a
   * partial record that outgrows it (an unterminated quote) aborts the read with a CsvError.
   */
  maxRecordChars?: number;
}

export const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

export class CsvError extends Error {
  override name = 'CsvError';
}

const BOM = '\ufeff';
const NEWLINE = 10;
const QUOTE = 34;
const COMMA = 44;
const CR = '\r';
const CR_CODE = 13;
const PARSER_CONFIG = { delimiter: ',', newline: '\n', quoteChar: '"' } as const;

// Line endings. Records end at LF, so LF, CRLF and mixed files read alike:
// - the CR of a CRLF ends up at the end of the last field: dropped from an unquoted field, while
//   Papa already skips it after a closing quote; a quoted field's own trailing CR (`"x\r"`) is data
//   and is kept;
// - CR and CRLF inside quotes are data; a record's line count follows its LFs only;
// - input ending in CR without LF is read as if the LF followed (a CRLF file cut after its CR);
// - a lone CR elsewhere is data, not a line break: a classic Mac (CR-only) file reads as one long
//   record, which the header check or the field count then rejects.

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function newlinesInFields(fields: string[]): number {
  let n = 0;
  for (const f of fields) if (f.includes('\n')) n += countNewlines(f, f.length);
  return n;
}

function recordChars(fields: string[]): number {
  let n = fields.length;
  for (const f of fields) n += f.length;
  return n;
}

/** Whether the last field of a record's raw text (without terminator) is quoted (RFC 4180). */
function lastFieldQuoted(raw: string): boolean {
  let start = 0;
  let inQuotes = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUOTE) {
      if (raw.charCodeAt(start) === QUOTE) inQuotes = !inQuotes;
    } else if (c === COMMA && !inQuotes) start = i + 1;
  }
  return raw.charCodeAt(start) === QUOTE;
}

/**
 * For each row of a parse batch, whether its last field was quoted. Papa does not say, so the batch
 * is parsed again with a per-row callback that gives where each row ends. Rare (only batches where a
 * quoted field may end in CR), so its cost does not matter.
 */
function quotedLastFields(consumed: string, final: boolean): boolean[] {
  const quoted: boolean[] = [];
  let start = 0;
  const parser = new Papa.Parser({
    ...PARSER_CONFIG,
    step: (row: Papa.ParseStepResult<string[]>) => {
      const end = row.meta.cursor;
      const rawEnd = consumed.charCodeAt(end - 1) === NEWLINE ? end - 1 : end;
      quoted.push(lastFieldQuoted(consumed.slice(start, rawEnd)));
      start = end;
    },
  });
  parser.parse(consumed, 0, !final);
  return quoted;
}

/**
 * A record of a line without quotes, as Papa would read it (the CR of a CRLF dropped) but with its
 * fields located in `text` instead of cut out. A wide numeric file is ~130 short fields per line:
 * cutting each into a string and then scanning it again costs more than the cleaning itself, so a
 * reader that can work on positions (fieldStart/fieldEnd) skips the strings. `fields` cuts them on
 * first read; assigning `fields` (a reordered record) makes the positions unusable: `inPlace` false.
 */
export class UnquotedRecord implements CsvRecord {
  error?: string;
  private cut: string[] | undefined;
  private replaced = false;

  /** Field k is text[fieldStart(k), fieldEnd(k)); `ends[first + k]` is its end. */
  constructor(
    readonly line: number,
    readonly text: string,
    private readonly lineStart: number,
    private readonly ends: readonly number[],
    private readonly first: number,
    readonly fieldCount: number,
  ) {}

  get inPlace(): boolean {
    return !this.replaced;
  }

  fieldStart(k: number): number {
    return k === 0 ? this.lineStart : (this.ends[this.first + k - 1] as number) + 1;
  }

  fieldEnd(k: number): number {
    return this.ends[this.first + k] as number;
  }

  get fields(): string[] {
    if (this.cut === undefined) {
      this.cut = new Array<string>(this.fieldCount);
      for (let k = 0; k < this.fieldCount; k++)
        this.cut[k] = this.text.slice(this.fieldStart(k), this.fieldEnd(k));
    }
    return this.cut;
  }

  set fields(fields: string[]) {
    this.cut = fields;
    this.replaced = true;
  }
}

/** Fields of a record, without cutting an UnquotedRecord's. */
export function fieldCount(record: CsvRecord): number {
  return record instanceof UnquotedRecord ? record.fieldCount : record.fields.length;
}

/**
 * UnquotedRecords of text[0, end), complete lines (each ends in LF) without a quote. Same records
 * and line numbers as toRecords gives for them: the CR of a CRLF is not part of the last field,
 * blank lines are skipped but counted, an over-long record gets `error`.
 */
function unquotedRecords(
  text: string,
  end: number,
  firstLine: number,
  maxRecordChars: number,
): { records: CsvRecord[]; nextLine: number } {
  const records: CsvRecord[] = [];
  // Field ends of every record of the batch, in one array the records index into.
  const ends: number[] = [];
  let line = firstLine;
  for (let start = 0; start < end; line++) {
    const newline = text.indexOf('\n', start);
    const contentEnd = newline > start && text.charCodeAt(newline - 1) === CR_CODE ? newline - 1 : newline;
    if (contentEnd > start) {
      const first = ends.length;
      let comma = text.indexOf(',', start);
      while (comma !== -1 && comma < contentEnd) {
        ends.push(comma);
        comma = text.indexOf(',', comma + 1);
      }
      ends.push(contentEnd);
      const record = new UnquotedRecord(line, text, start, ends, first, ends.length - first);
      if (contentEnd - start + 1 > maxRecordChars)
        record.error = `record longer than ${maxRecordChars} characters`;
      records.push(record);
    }
    start = newline + 1;
  }
  return { records, nextLine: line };
}

function papaErrorText(error: Papa.ParseError): string {
  return `malformed CSV (${error.code}): ${error.message}`;
}

/**
 * Turns one parse batch into records. `final` marks the file's last batch; `terminated` is false
 * when that batch does not end with a newline (its last record has no line terminator).
 */
function toRecords(
  result: Papa.ParseResult<string[]>,
  consumed: string,
  final: boolean,
  terminated: boolean,
  firstLine: number,
  maxRecordChars: number,
): { records: CsvRecord[]; nextLine: number } {
  const rows = result.data;
  const errorsByRow = new Map<number, string>();
  for (const e of result.errors) {
    if (e.row !== undefined && !errorsByRow.has(e.row)) errorsByRow.set(e.row, papaErrorText(e));
  }
  const terminators = terminated ? rows.length : rows.length - 1;
  // Quoted newlines make a record span several lines; only then do we scan fields to number lines.
  const spansLines = countNewlines(consumed, consumed.length) !== terminators;
  const checkLength = consumed.length > maxRecordChars;
  const records: CsvRecord[] = [];
  // Only a batch holding `\r"` can have a quoted field ending in CR; found lazily, as LF files
  // never need it and CRLF files check each batch once.
  let quotedLast: boolean[] | undefined;
  let line = firstLine;
  for (let i = 0; i < rows.length; i++) {
    const fields = rows[i] as string[];
    const recordLine = line;
    line += spansLines ? 1 + newlinesInFields(fields) : 1;
    // The CR of a CRLF stays at the end of an unquoted last field (see "Line endings").
    const last = fields.length - 1;
    const lastField = fields[last] as string;
    if (lastField.endsWith(CR)) {
      quotedLast ??= consumed.includes('\r"') ? quotedLastFields(consumed, final) : [];
      if (quotedLast[i] !== true) fields[last] = lastField.slice(0, -1);
    }
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    const record: CsvRecord = { line: recordLine, fields };
    const error = errorsByRow.get(i);
    if (error !== undefined) record.error = error;
    else if (checkLength && recordChars(fields) > maxRecordChars) {
      record.error = `record longer than ${maxRecordChars} characters`;
    }
    records.push(record);
  }
  return { records, nextLine: line };
}

/**
 * Reads CSV records in batches (one per input chunk). Handles a UTF-8 BOM, LF/CRLF (even mixed),
 * quoted commas, quotes and newlines. Blank lines are skipped. Memory: one chunk + one partial row.
 */
export async function* readCsvBatches(
  input: AsyncIterable<Buffer | string>,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const parser = new Papa.Parser(PARSER_CONFIG);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 1;
  let atStart = true;

  const parse = (chunk: string, final: boolean): CsvRecord[] => {
    let text = chunk;
    let unquoted: CsvRecord[] = [];
    if (options.lazyFields) {
      // The complete lines before the first quote; Papa reads the rest (quoted fields may span lines).
      const quote = text.indexOf('"');
      const end = text.lastIndexOf('\n', quote === -1 ? text.length : quote) + 1;
      if (end > 0) {
        const scanned = unquotedRecords(text, end, line, maxRecordChars);
        unquoted = scanned.records;
        line = scanned.nextLine;
        text = text.slice(end);
      }
    }
    const records = parsePapa(text, final);
    return unquoted.length === 0 ? records : records.length === 0 ? unquoted : unquoted.concat(records);
  };

  const parsePapa = (text: string, final: boolean): CsvRecord[] => {
    const result = parser.parse(text, 0, !final) as Papa.ParseResult<string[]>;
    const cursor = final ? text.length : result.meta.cursor;
    const consumed = final ? text : text.slice(0, cursor);
    pending = final ? '' : text.slice(cursor);
    if (pending.length > maxRecordChars) {
      throw new CsvError(
        `record at line ${line + countNewlines(consumed, consumed.length)} is longer than ${maxRecordChars} characters (unterminated quote?)`,
      );
    }
    if (result.data.length === 0) return [];
    const terminated = !final || text.charCodeAt(text.length - 1) === NEWLINE;
    const { records, nextLine } = toRecords(result, consumed, final, terminated, line, maxRecordChars);
    line = nextLine;
    return records;
  };

  for await (const chunk of input) {
    let text = pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (atStart && text.length > 0) {
      if (text.startsWith(BOM)) text = text.slice(1);
      atStart = false;
    }
    if (text.length === 0) continue;
    const records = parse(text, false);
    if (records.length > 0) yield records;
  }
  let rest = pending + decoder.end();
  if (atStart && rest.startsWith(BOM)) rest = rest.slice(1);
  if (rest.endsWith(CR)) rest += '\n'; // a CRLF cut after its CR (see "Line endings")
  if (rest.length > 0) {
    const records = parse(rest, true);
    if (records.length > 0) yield records;
  }
}

/** Reads CSV records one by one; see readCsvBatches. */
export async function* readCsvRecords(
  input: AsyncIterable<Buffer | string>,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(input, options)) yield* batch;
}

/** Where the expected columns sit in a file's header (columns are matched by name, not position). */
export interface HeaderMap {
  /** For each expected column, its index in the file's records. */
  positions: number[];
  /** Columns of the file that are not expected: ignored, and reported. */
  extra: string[];
  /** Fields per record in the file. */
  width: number;
  /** The file's columns are exactly the expected ones, in order: records need no reordering. */
  identity: boolean;
}

/**
 * Matches a file's header to the expected columns by name (trimmed: stray spaces around a header
 * are harmless), in any order. Extra columns are ignored and listed; a missing or repeated column is
 * a one-line CsvError naming the file and the column.
 */
export function mapHeader(actual: readonly string[], expected: readonly string[], file: string): HeaderMap {
  const index = new Map<string, number>();
  actual.forEach((name, i) => {
    const trimmed = name.trim();
    if (index.has(trimmed))
      throw new CsvError(`${file}: header column ${JSON.stringify(trimmed)} appears twice`);
    index.set(trimmed, i);
  });
  const missing = expected.filter((name) => !index.has(name));
  if (missing.length > 0) {
    const named = missing.slice(0, 3).map((name) => JSON.stringify(name));
    const list = missing.length > 3 ? `${named.join(', ')} and ${missing.length - 3} more` : named.join(', ');
    throw new CsvError(
      `${file}: header is missing ${missing.length === 1 ? 'column' : 'columns'} ${list} (${expected.length - missing.length} of ${expected.length} found)`,
    );
  }
  const positions = expected.map((name) => index.get(name) as number);
  const wanted = new Set(expected);
  const extra = actual.map((name) => name.trim()).filter((name) => !wanted.has(name));
  const identity = actual.length === expected.length && positions.every((p, i) => p === i);
  return { positions, extra, width: actual.length, identity };
}

/** A record's fields in the expected order (cells a short record lacks are empty). */
function reorder(fields: string[], positions: readonly number[]): string[] {
  return positions.map((p) => fields[p] ?? '');
}

export interface ReadCsvWithHeaderOptions extends ReadCsvOptions {
  /** Called once with the file's header mapping (its `extra` columns are ignored). */
  onHeader?: (header: HeaderMap) => void;
}

/**
 * Reads a CSV whose header must name every `expected` column, in any order, yielding the data
 * records in batches with their fields in the expected order. An empty file is a CsvError; a
 * header-only file yields nothing. A record whose field count differs from the header's gets
 * `error` set (the caller rejects it with that reason).
 */
export async function* readCsvBatchesWithHeader(
  input: AsyncIterable<Buffer | string>,
  expected: readonly string[],
  file: string,
  options: ReadCsvWithHeaderOptions = {},
): AsyncGenerator<CsvRecord[]> {
  let header: HeaderMap | undefined;
  for await (const batch of readCsvBatches(input, options)) {
    let records = batch;
    if (!header) {
      const first = batch[0] as CsvRecord;
      if (first.error !== undefined) throw new CsvError(`${file}: header line ${first.line}: ${first.error}`);
      header = mapHeader(first.fields, expected, file);
      options.onHeader?.(header);
      records = batch.slice(1);
    }
    const { width, identity, positions } = header;
    for (const r of records) {
      const count = fieldCount(r);
      if (r.error === undefined && count !== width) r.error = `expected ${width} fields, got ${count}`;
      if (!identity) r.fields = reorder(r.fields, positions);
    }
    if (records.length > 0) yield records;
  }
  if (!header)
    throw new CsvError(`${file}: empty file, expected the header ${JSON.stringify(expected.join(','))}`);
}

/** Record-by-record form of readCsvBatchesWithHeader. */
export async function* readCsvRecordsWithHeader(
  input: AsyncIterable<Buffer | string>,
  expected: readonly string[],
  file: string,
  options: ReadCsvWithHeaderOptions = {},
): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatchesWithHeader(input, expected, file, options)) yield* batch;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One RFC 4180 cell: quoted only when it holds a comma, quote or line break; null is empty. */
export function formatCsvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV line, terminated by '\n' (RFC 4180 quoting; null and undefined become empty cells). */
export function formatCsvLine(values: readonly (string | number | null | undefined)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ',';
    line += formatCsvField(values[i]);
  }
  return `${line}\n`;
}
