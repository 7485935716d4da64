// One batch of consecutive rows rendered as CSV text per source: the unit of work shared by the
// in-process path and the worker threads.
import type { SourceName } from '../../lib/sources.ts';
import { formatSourceLine, type LineFormat } from './format.ts';
import type { KnownRow, RowGenerator } from './rows.ts';

export interface KnownRowWithId extends KnownRow {
  id: number;
}

/**
 * Rows `start..end-1` (0-based positions; Id = position + 1 unless `known` gives it), one string
 * per source in `sources` order.
 */
export function renderBatch(
  generateRow: RowGenerator,
  format: LineFormat,
  sources: readonly SourceName[],
  start: number,
  end: number,
  known?: readonly KnownRowWithId[],
): string[] {
  const texts = sources.map(() => '');
  for (let i = start; i < end; i++) {
    const k = known?.[i];
    const row = generateRow(k?.id ?? i + 1, k);
    for (let s = 0; s < sources.length; s++) {
      texts[s] += formatSourceLine(sources[s] as SourceName, row, format);
    }
  }
  return texts;
}
