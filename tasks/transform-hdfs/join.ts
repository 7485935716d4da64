// Clean-and-join of the three attribute sources on Id, streaming.
//
// Join type: inner. A joined row exists only for an Id present (and clean) in all three sources;
// every source row that does not make it into the output is in rejects.csv with the reason
// (`missing_in_<source>`), so no row disappears silently and no half-known neighborhood is passed
// downstream as if its missing source were all NULL.
//
// Memory: the health-insurance file is ~66 times wider than the other two, so it is the probe side,
// streamed batch by batch and never held; income and self-employment (3 numbers per row and
// 6) are the hash build side. Memory is bounded by the build side plus one Id per probe row (the
// set that detects duplicate Ids on the streamed side), not by the files.
//
// Duplicate Ids within a source: the first occurrence (in file order) is kept, every later one is
// rejected with `duplicate_key` naming the line of the first. Rejecting every occurrence would need
// a second pass over the streamed side (the first occurrence is already written when the second
// shows up); keep-first is deterministic for a given file and every dropped row is accounted for.
import type { CsvRecord } from '../../lib/csv.ts';
import { SOURCES, type SourceName } from '../../lib/sources.ts';
import {
  KEPT_ROW_CODES,
  SourceCleaner,
  rawOf,
  type Cell,
  type CleanRow,
  type Reject,
  type RejectCode,
} from './clean-source.ts';

export type AttributeSource = 'income' | 'health_insurance' | 'self_employment';
/** Order of the joined columns (schema order of docs/CONTRACTS.md). */
export const ATTRIBUTE_SOURCES: readonly AttributeSource[] = [
  'income',
  'health_insurance',
  'self_employment',
];

export type RecordBatches = AsyncIterable<CsvRecord[]>;

export interface JoinedRow {
  id: number;
  neighborhood: string;
  /** Values of income, health_insurance, self_employment, concatenated in that order. */
  income: Cell[];
  health: Cell[];
  selfEmployment: Cell[];
}

export interface JoinSink {
  row(row: JoinedRow): void;
  reject(reject: Reject): void;
  /** Called after each input batch; a promise makes the join wait (backpressure of the writer). */
  drain(): Promise<void> | undefined;
}

export interface JoinStats {
  rowsIn: Record<AttributeSource, number>;
  rowsJoined: number;
  rejects: Partial<Record<RejectCode, number>>;
  /** Source rows that are not in the output (each has a reject line). */
  rowsDropped: number;
}

interface BuildEntry {
  row: CleanRow;
}

export function createCleaners(): Record<AttributeSource, SourceCleaner> {
  return {
    income: new SourceCleaner(SOURCES.income),
    health_insurance: new SourceCleaner(SOURCES.health_insurance),
    self_employment: new SourceCleaner(SOURCES.self_employment),
  };
}

/** Joined header: `id,neighborhood,<income>,<health_insurance>,<self_employment>`. */
export function joinedColumns(): string[] {
  const cleaners = createCleaners();
  return ['id', 'neighborhood', ...ATTRIBUTE_SOURCES.flatMap((s) => cleaners[s].columns)];
}

/**
 * A source with a header and no data row is unusable, not "zero neighborhoods": an inner join would
 * turn it into an empty output replacing yesterday's, so the run stops instead.
 */
export class EmptySourceError extends Error {
  override name = 'EmptySourceError';
  constructor(file: string) {
    super(`${file}: header only, no data rows`);
  }
}

export async function cleanAndJoin(
  inputs: Record<AttributeSource, RecordBatches>,
  sink: JoinSink,
): Promise<JoinStats> {
  const cleaners = createCleaners();
  const stats: JoinStats = {
    rowsIn: { income: 0, health_insurance: 0, self_employment: 0 },
    rowsJoined: 0,
    rejects: {},
    rowsDropped: 0,
  };
  const reject = (r: Reject): void => {
    stats.rejects[r.code] = (stats.rejects[r.code] ?? 0) + 1;
    if (!KEPT_ROW_CODES.has(r.code)) stats.rowsDropped++;
    sink.reject(r);
  };

  const build = async (source: 'income' | 'self_employment'): Promise<Map<number, BuildEntry>> => {
    const cleaner = cleaners[source];
    const map = new Map<number, BuildEntry>();
    for await (const batch of inputs[source]) {
      stats.rowsIn[source] += batch.length;
      for (const record of batch) {
        const row = cleaner.clean(record, reject);
        if (row === null) continue;
        const first = map.get(row.id);
        if (first !== undefined) {
          reject(duplicate(source, record, row.id, first.row.line));
          continue;
        }
        map.set(row.id, { row });
      }
      await sink.drain();
    }
    return map;
  };
  // The two build sides are read concurrently: both are network-bound reads of small files.
  const [income, selfEmployment] = await Promise.all([build('income'), build('self_employment')]);
  for (const source of ['income', 'self_employment'] as const) {
    if (stats.rowsIn[source] === 0) throw new EmptySourceError(SOURCES[source].file);
  }

  const probe = cleaners.health_insurance;
  // Id -> line of its first occurrence on the streamed side: detects and explains duplicates.
  const seen = new Map<number, number>();
  for await (const batch of inputs.health_insurance) {
    stats.rowsIn.health_insurance += batch.length;
    for (const record of batch) {
      const row = probe.clean(record, reject);
      if (row === null) continue;
      const first = seen.get(row.id);
      if (first !== undefined) {
        reject(duplicate('health_insurance', record, row.id, first));
        continue;
      }
      seen.set(row.id, row.line);
      const inc = income.get(row.id);
      const se = selfEmployment.get(row.id);
      if (inc === undefined || se === undefined) {
        const missing: AttributeSource = inc === undefined ? 'income' : 'self_employment';
        const code = `missing_in_${missing}` as const;
        const detail = `Id ${row.id} has no clean row in ${missing}`;
        const id = String(row.id);
        reject({ source: 'health_insurance', line: row.line, id, code, detail, raw: '' });
        if (inc !== undefined) {
          income.delete(row.id);
          reject({ source: 'income', line: inc.row.line, id, code, detail, raw: '' });
        }
        if (se !== undefined) {
          selfEmployment.delete(row.id);
          reject({ source: 'self_employment', line: se.row.line, id, code, detail, raw: '' });
        }
        continue;
      }
      income.delete(row.id);
      selfEmployment.delete(row.id);
      const name = inc.row.neighborhood;
      for (const [source, other] of [
        ['health_insurance', row],
        ['self_employment', se.row],
      ] as const) {
        if (other.neighborhood !== name) {
          reject({
            source,
            line: other.line,
            id: String(row.id),
            code: 'neighborhood_mismatch',
            detail: `${JSON.stringify(other.neighborhood)} here, ${JSON.stringify(name)} in income; income's name kept`,
            raw: '',
          });
        }
      }
      sink.row({
        id: row.id,
        neighborhood: name,
        income: inc.row.values,
        health: row.values,
        selfEmployment: se.row.values,
      });
      stats.rowsJoined++;
    }
    const wait = sink.drain();
    if (wait) await wait;
  }

  if (stats.rowsIn.health_insurance === 0) throw new EmptySourceError(SOURCES.health_insurance.file);

  // Build-side rows the probe never reached: their Id has no clean health-insurance row.
  for (const [source, map] of [
    ['income', income],
    ['self_employment', selfEmployment],
  ] as const) {
    for (const [id, entry] of map) {
      reject({
        source,
        line: entry.row.line,
        id: String(id),
        code: 'missing_in_health_insurance',
        detail: `Id ${id} has no clean row in health_insurance`,
        raw: '',
      });
    }
  }
  await sink.drain();
  return stats;
}

function duplicate(source: SourceName, record: CsvRecord, id: number, first: number): Reject {
  return {
    source,
    line: record.line,
    id: String(id),
    code: 'duplicate_key',
    detail: `Id ${id} already at line ${first}; first occurrence kept`,
    raw: rawOf(record.fields),
  };
}
