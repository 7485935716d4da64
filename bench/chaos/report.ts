// How the chaos suite reports: one row per fault (runs, lost, duplicated, whether the fault met work
// in flight, PASS/FAIL), the table printed at the end and the details under it.
import { markdownTable } from '../table.ts';
import { EMPTY_TALLY, type Landing, type Tally } from './verify.ts';

export interface Row {
  fault: string;
  runs: number;
  tally: Tally;
  ok: boolean;
  /** Evidence that the fault met work in flight (the table's "fault landed" column). */
  landed: string;
  detail: string;
}

export const LANDED: Record<Landing, string> = {
  failed: 'exit ≠ 0, re-run',
  'rode out': 'rode out the outage',
  missed: 'missed',
};

/** A fault that threw before it could judge anything. */
export function notCompletedRow(fault: string, message: string): Row {
  return {
    fault,
    runs: 0,
    tally: EMPTY_TALLY,
    ok: false,
    landed: 'unknown',
    detail: `did not complete: ${message.split('\n')[0]}`,
  };
}

/** A fault whose every try missed the work in flight. */
export function missedRow(fault: string, tries: readonly string[]): Row {
  return { fault, runs: 0, tally: EMPTY_TALLY, ok: false, landed: LANDED.missed, detail: tries.join('; ') };
}

/** Thousands separated, as every count of the report is written. */
export const count = (n: number): string => n.toLocaleString('en-US');

export function renderReport(rows: readonly Row[]): string {
  const counts = ['runs', 'lost', 'duplicated'].map((header) => ({ header, align: 'right' as const }));
  const table = markdownTable(
    [{ header: 'fault' }, ...counts, { header: 'fault landed' }, { header: 'result' }],
    rows.map((r) => [
      r.fault,
      String(r.runs),
      String(r.tally.lost),
      String(r.tally.duplicated + r.tally.unexpected),
      r.landed,
      r.ok ? 'PASS' : 'FAIL',
    ]),
  );
  return `\n${table}\n\n${rows.map((r) => `- ${r.fault}: ${r.detail}`).join('\n')}\n`;
}
