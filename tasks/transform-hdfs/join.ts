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
import { BuildSide } from './build-side.ts';
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
  const join = new JoinRun(sink);
  // The two build sides are read concurrently: both are network-bound reads of small files. Their
  // rejects are held until both are built, then written income's first, then self-employment's, each
  // in file order: rejects.csv has the same bytes on every run, whatever the read timing.
  const buildRejects: Record<'income' | 'self_employment', Reject[]> = { income: [], self_employment: [] };
  const [income, selfEmployment] = await Promise.all([
    join.buildSide('income', inputs.income, buildRejects.income),
    join.buildSide('self_employment', inputs.self_employment, buildRejects.self_employment),
  ]);
  for (const r of [...buildRejects.income, ...buildRejects.self_employment]) sink.reject(r);
  for (const source of ['income', 'self_employment'] as const) {
    if (join.stats.rowsIn[source] === 0) throw new EmptySourceError(SOURCES[source].file);
  }
  await join.probe(inputs.health_insurance, income, selfEmployment);
  if (join.stats.rowsIn.health_insurance === 0) throw new EmptySourceError(SOURCES.health_insurance.file);
  join.rejectUnmatched({ income, self_employment: selfEmployment });
  await sink.drain();
  return join.stats;
}

/** One clean-and-join: the cleaners, the counts and the reject accounting, step by step. */
class JoinRun {
  private readonly cleaners = createCleaners();
  readonly stats: JoinStats = {
    rowsIn: { income: 0, health_insurance: 0, self_employment: 0 },
    rowsJoined: 0,
    rejects: {},
    rowsDropped: 0,
  };

  constructor(private readonly sink: JoinSink) {}

  readonly reject = (r: Reject): void => {
    this.count(r);
    this.sink.reject(r);
  };

  private count(r: Reject): void {
    const stats = this.stats;
    stats.rejects[r.code] = (stats.rejects[r.code] ?? 0) + 1;
    if (!KEPT_ROW_CODES.has(r.code)) stats.rowsDropped++;
  }

  /**
   * Cleans a small source into its hash table; later duplicates of an Id are rejected. Its rejects
   * are counted at once but collected in `rejects` (the caller writes them in a fixed order).
   */
  async buildSide(
    source: 'income' | 'self_employment',
    batches: RecordBatches,
    rejects: Reject[],
  ): Promise<BuildSide> {
    const cleaner = this.cleaners[source];
    const map = new BuildSide(cleaner.columns.length);
    const reject = (r: Reject): void => {
      this.count(r);
      rejects.push(r);
    };
    for await (const batch of batches) {
      this.stats.rowsIn[source] += batch.length;
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
      await this.sink.drain();
    }
    return map;
  }

  /**
   * Streams health insurance against the build sides: each clean, first-seen row is joined or
   * rejected with its partners; matched Ids leave the build sides.
   */
  async probe(batches: RecordBatches, income: BuildSide, selfEmployment: BuildSide): Promise<void> {
    const probe = this.cleaners.health_insurance;
    // Id -> line of its first occurrence on the streamed side: detects and explains duplicates.
    const seen = new Map<number, number>();
    for await (const batch of batches) {
      this.stats.rowsIn.health_insurance += batch.length;
      for (const record of batch) {
        const row = probe.clean(record, this.reject);
        if (row === null) continue;
        const first = seen.get(row.id);
        if (first !== undefined) {
          this.reject(duplicate('health_insurance', record, row.id, first));
          continue;
        }
        seen.set(row.id, row.line);
        const inc = income.get(row.id);
        const se = selfEmployment.get(row.id);
        income.delete(row.id);
        selfEmployment.delete(row.id);
        if (inc === undefined || se === undefined) this.rejectPartial(row, inc, se);
        else this.joinRow(row, inc.row, se.row);
      }
      const wait = this.sink.drain();
      if (wait) await wait;
    }
  }

  /** An Id missing from income or self-employment: every row of it that exists is rejected. */
  private rejectPartial(health: CleanRow, inc: BuildEntry | undefined, se: BuildEntry | undefined): void {
    const missing: AttributeSource = inc === undefined ? 'income' : 'self_employment';
    const code = `missing_in_${missing}` as const;
    const detail = `Id ${health.id} has no clean row in ${missing}`;
    const id = String(health.id);
    this.reject({ source: 'health_insurance', line: health.line, id, code, detail, raw: '' });
    if (inc !== undefined) this.reject({ source: 'income', line: inc.row.line, id, code, detail, raw: '' });
    if (se !== undefined)
      this.reject({ source: 'self_employment', line: se.row.line, id, code, detail, raw: '' });
  }

  /** The joined row, under income's neighborhood name; other names are recorded as mismatches. */
  private joinRow(health: CleanRow, income: CleanRow, selfEmployment: CleanRow): void {
    const name = income.neighborhood;
    for (const [source, other] of [
      ['health_insurance', health],
      ['self_employment', selfEmployment],
    ] as const) {
      if (other.neighborhood !== name) {
        this.reject({
          source,
          line: other.line,
          id: String(health.id),
          code: 'neighborhood_mismatch',
          detail: `${JSON.stringify(other.neighborhood)} here, ${JSON.stringify(name)} in income; income's name kept`,
          raw: '',
        });
      }
    }
    this.sink.row({
      id: health.id,
      neighborhood: name,
      income: income.values,
      health: health.values,
      selfEmployment: selfEmployment.values,
    });
    this.stats.rowsJoined++;
  }

  /** Build-side rows the probe never reached: their Id has no clean health-insurance row. */
  rejectUnmatched(sides: Record<'income' | 'self_employment', BuildSide>): void {
    for (const source of ['income', 'self_employment'] as const) {
      for (const [id, entry] of sides[source]) {
        this.reject({
          source,
          line: entry.row.line,
          id: String(id),
          code: 'missing_in_health_insurance',
          detail: `Id ${id} has no clean row in health_insurance`,
          raw: '',
        });
      }
    }
  }
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
