// Cleans the records of one source (SPEC section 4) into typed rows. Decisions, documented in the
// README:
// - a record with a bad or missing Id, an empty Neighborhood, too few or too many fields or broken
//   quoting is rejected whole, with its reason;
// - a bad measure cell (not a number, negative, fractional count) does not reject the row: the cell
//   becomes NULL (unknown) and a `bad_cell` line in rejects.csv records column, value and reason.
//   One garbled cell should not drop the other 131 known values of a neighborhood from every cube,
//   and NULL is the truthful value of a cell we cannot read;
// - ACS markers and empty cells are NULL without a reject line: they are how ACS says "unknown".
import { cleanId, cleanNeighborhood, cleanerForHeader, type CleanResult } from '../../lib/clean.ts';
import type { CsvRecord } from '../../lib/csv.ts';
import { formatCsvLine } from '../../lib/csv.ts';
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

export class SourceCleaner {
  readonly header: string[];
  readonly columns: string[];
  private readonly cleaners: ((raw: string) => CleanResult)[];

  constructor(readonly schema: SourceSchema) {
    this.header = headerOf(schema);
    const mapping = columnMapping(schema);
    this.columns = mapping.map((m) => m.column);
    this.cleaners = mapping.map((m) => cleanerForHeader(m.header));
  }

  /** The clean row, or null when the record is rejected; every reject goes to `reject`. */
  clean(record: CsvRecord, reject: (r: Reject) => void): CleanRow | null {
    const source = this.schema.name;
    const fields = record.fields;
    const line = record.line;
    const rawId = (fields[1] ?? '').trim().slice(0, 40);
    if (record.error !== undefined) {
      const code: RejectCode = record.error.startsWith('expected ') ? 'column_count' : 'malformed_row';
      reject({ source, line, id: rawId, code, detail: record.error, raw: rawOf(fields) });
      return null;
    }
    const id = cleanId(fields[1] as string);
    if (typeof id !== 'number') {
      reject({ source, line, id: rawId, code: 'bad_key', detail: id.reason, raw: rawOf(fields) });
      return null;
    }
    const neighborhood = cleanNeighborhood(fields[0] as string);
    if (typeof neighborhood !== 'string' || neighborhood.length > MAX_NEIGHBORHOOD_CHARS) {
      const detail =
        typeof neighborhood === 'string'
          ? `Neighborhood longer than ${MAX_NEIGHBORHOOD_CHARS} characters`
          : neighborhood.reason;
      reject({ source, line, id: String(id), code: 'bad_neighborhood', detail, raw: rawOf(fields) });
      return null;
    }
    const cleaners = this.cleaners;
    const n = cleaners.length;
    const values = new Array<Cell>(n);
    for (let i = 0; i < n; i++) {
      const raw = fields[i + 2] as string;
      const result = (cleaners[i] as (raw: string) => CleanResult)(raw);
      if (typeof result === 'object' && result !== null) {
        values[i] = null;
        reject({
          source,
          line,
          id: String(id),
          code: 'bad_cell',
          detail: `${this.columns[i]}: ${result.reason}; kept as NULL`,
          raw: truncateRaw(raw),
        });
      } else {
        values[i] = result;
      }
    }
    return { id, neighborhood, values, line };
  }
}
