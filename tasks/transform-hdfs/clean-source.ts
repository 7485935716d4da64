// Cleans the records of one source (SPEC section 4) into typed rows. Decisions, documented in the
// README:
// - a record with a bad or missing Id, an empty Neighborhood, too few or too many fields or broken
//   quoting is rejected whole, with its reason;
// - a bad measure cell (not a number, negative, fractional count) does not reject the row: the cell
//   becomes NULL (unknown) and a `bad_cell` line in rejects.csv records column, value and reason.
//   One garbled cell should not drop the other 131 known values of a neighborhood from every cube,
//   and NULL is the truthful value of a cell we cannot read;
// - ACS markers and empty cells are NULL without a reject line: they are how ACS says "unknown".
import { cleanIdIn, cleanNeighborhoodIn, rangeCleanerForHeader, type CleanResult } from '../../lib/clean.ts';
import { UnquotedRecord, formatCsvLine, type CsvRecord } from '../../lib/csv.ts';
import { columnMapping, headerOf, type SourceName, type SourceSchema } from '../../lib/sources.ts';

export type Cell = number | null;

export interface CleanRow {
  id: number;
  neighborhood: string;
  values: Cell[];
  line: number;
}

export const REJECT_CODES = [
  'malformed_row',
  'column_count',
  'bad_key',
  'bad_neighborhood',
  'duplicate_key',
  'bad_cell',
  'missing_in_income',
  'missing_in_health_insurance',
  'missing_in_self_employment',
  'neighborhood_mismatch',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/**
 * One line of rejects.csv (`source,line,id,reason,raw`): a typed code and what exactly was wrong.
 * The file's `reason` column is `<code>: <detail>` (output.ts rejectReason).
 */
export interface Reject {
  source: SourceName | 'join';
  line: number | null;
  id: string;
  code: RejectCode;
  detail: string;
  raw: string;
}

/** Codes that note a problem on a row that is still written (the rest drop the row). */
export const KEPT_ROW_CODES: ReadonlySet<RejectCode> = new Set(['bad_cell', 'neighborhood_mismatch']);

/** Longest raw text kept in rejects.csv: enough to recognise a row, bounded for a 10 MB cell. */
export const MAX_RAW_CHARS = 4096;
const MAX_NEIGHBORHOOD_CHARS = 200;

export function truncateRaw(text: string): string {
  return text.length > MAX_RAW_CHARS
    ? `${text.slice(0, MAX_RAW_CHARS)}…[${text.length - MAX_RAW_CHARS} more chars]`
    : text;
}

export function rawOf(fields: readonly string[]): string {
  return truncateRaw(formatCsvLine(fields).slice(0, -1));
}

/**
 * Where the Id or the Neighborhood cell of a record is, as text[start, end): in a line read in place
 * (UnquotedRecord) or in its own field string. Set by `locate`; module-level scratch, as in
 * lib/clean.ts, so that no cell is cut into a string of its own and nothing is allocated for it.
 */
let cellText = '';
let cellStart = 0;
let cellEnd = 0;

function locate(record: CsvRecord, inPlace: boolean, k: number): void {
  if (inPlace) {
    const located = record as UnquotedRecord;
    cellText = located.text;
    cellStart = located.fieldStart(k);
    cellEnd = located.fieldEnd(k);
  } else {
    cellText = record.fields[k] as string;
    cellStart = 0;
    cellEnd = cellText.length;
  }
}

type CellCleaner = (text: string, start: number, end: number) => CleanResult;

export class SourceCleaner {
  readonly header: string[];
  readonly columns: string[];
  private readonly cleaners: CellCleaner[];

  constructor(readonly schema: SourceSchema) {
    this.header = headerOf(schema);
    const mapping = columnMapping(schema);
    this.columns = mapping.map((m) => m.column);
    this.cleaners = mapping.map((m) => rangeCleanerForHeader(m.header));
  }

  /** The clean row, or null when the record is rejected; every reject goes to `reject`. */
  clean(record: CsvRecord, reject: (r: Reject) => void): CleanRow | null {
    const source = this.schema.name;
    const line = record.line;
    if (record.error !== undefined) {
      const code: RejectCode = record.error.startsWith('expected ') ? 'column_count' : 'malformed_row';
      reject({ source, line, id: rawIdOf(record), code, detail: record.error, raw: rawOf(record.fields) });
      return null;
    }
    const inPlace = record instanceof UnquotedRecord && record.inPlace;
    locate(record, inPlace, 1);
    const id = cleanIdIn(cellText, cellStart, cellEnd);
    if (typeof id !== 'number') {
      reject({
        source,
        line,
        id: rawIdOf(record),
        code: 'bad_key',
        detail: id.reason,
        raw: rawOf(record.fields),
      });
      return null;
    }
    locate(record, inPlace, 0);
    const neighborhood = cleanNeighborhoodIn(cellText, cellStart, cellEnd);
    if (typeof neighborhood !== 'string' || neighborhood.length > MAX_NEIGHBORHOOD_CHARS) {
      const detail =
        typeof neighborhood === 'string'
          ? `Neighborhood longer than ${MAX_NEIGHBORHOOD_CHARS} characters`
          : neighborhood.reason;
      reject({ source, line, id: String(id), code: 'bad_neighborhood', detail, raw: rawOf(record.fields) });
      return null;
    }
    const values = new Array<Cell>(this.cleaners.length);
    const row: CleanRow = { id, neighborhood, values, line };
    if (inPlace) {
      // Cells follow each other in the line: each starts one past the previous one's end.
      const located = record as UnquotedRecord;
      let start = located.fieldStart(2);
      for (let i = 0; i < values.length; i++) {
        const end = located.fieldEnd(i + 2);
        this.cell(row, i, located.text, start, end, reject);
        start = end + 1;
      }
    } else {
      const fields = record.fields;
      for (let i = 0; i < values.length; i++) {
        const field = fields[i + 2] as string;
        this.cell(row, i, field, 0, field.length, reject);
      }
    }
    return row;
  }

  /** Cleans value i of `row` from text[start, end); a bad cell is NULL, with a `bad_cell` reject. */
  private cell(
    row: CleanRow,
    i: number,
    text: string,
    start: number,
    end: number,
    reject: (r: Reject) => void,
  ): void {
    const result = (this.cleaners[i] as CellCleaner)(text, start, end);
    if (typeof result !== 'object' || result === null) {
      row.values[i] = result;
      return;
    }
    row.values[i] = null;
    reject({
      source: this.schema.name,
      line: row.line,
      id: String(row.id),
      code: 'bad_cell',
      detail: `${this.columns[i]}: ${result.reason}; kept as NULL`,
      raw: truncateRaw(text.slice(start, end)),
    });
  }
}

/** The Id as a reject line shows it: the raw field, trimmed, at most 40 characters. */
function rawIdOf(record: CsvRecord): string {
  return (record.fields[1] ?? '').trim().slice(0, 40);
}
