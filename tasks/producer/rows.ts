// Reads total-population.csv into cleaned rows (SPEC section 4 cleaning rules). A row that fails
// cleaning is a reject with its line and reason, never dropped silently; a duplicate Id is a reject
// too (the first occurrence wins), since "latest per Id" downstream must not mix two rows.
import { cleanAcsMargin, cleanAcsNumber, cleanId, cleanNeighborhood, isRejection } from '../../lib/clean.ts';
import { readCsvBatchesWithHeader } from '../../lib/csv.ts';
import { SOURCES, headerOf } from '../../lib/sources.ts';

export interface PopulationRow {
  id: number;
  neighborhood: string;
  populationEstimateTotal: number | null;
  populationMarginOfErrorTotal: number | null;
}

export interface RowReject {
  line: number;
  id: string;
  reason: string;
}

export interface PopulationRows {
  rows: PopulationRow[];
  rejects: RowReject[];
}

export const POPULATION_HEADER = headerOf(SOURCES.population);

/** Cleans one record of total-population.csv (fields in published header order). */
export function cleanPopulationRecord(fields: readonly string[]): PopulationRow | { reason: string } {
  const [rawNeighborhood = '', rawId = '', rawEstimate = '', rawMargin = ''] = fields;
  const id = cleanId(rawId);
  if (isRejection(id)) return id;
  const neighborhood = cleanNeighborhood(rawNeighborhood);
  if (isRejection(neighborhood)) return neighborhood;
  const estimate = cleanAcsNumber(rawEstimate);
  if (isRejection(estimate)) return { reason: `Estimate; Total: ${estimate.reason}` };
  const margin = cleanAcsMargin(rawMargin);
  if (isRejection(margin)) return { reason: `Margin of Error; Total: ${margin.reason}` };
  return { id, neighborhood, populationEstimateTotal: estimate, populationMarginOfErrorTotal: margin };
}

export async function readPopulationRows(
  input: AsyncIterable<Buffer | string>,
  file: string,
): Promise<PopulationRows> {
  const rows: PopulationRow[] = [];
  const rejects: RowReject[] = [];
  const seen = new Set<number>();
  for await (const batch of readCsvBatchesWithHeader(input, POPULATION_HEADER, file)) {
    for (const record of batch) {
      const rawId = (record.fields[1] ?? '').trim();
      if (record.error !== undefined) {
        rejects.push({ line: record.line, id: rawId, reason: record.error });
        continue;
      }
      const row = cleanPopulationRecord(record.fields);
      if ('reason' in row) {
        rejects.push({ line: record.line, id: rawId, reason: row.reason });
      } else if (seen.has(row.id)) {
        rejects.push({ line: record.line, id: rawId, reason: `duplicate Id ${row.id}` });
      } else {
        seen.add(row.id);
        rows.push(row);
      }
    }
  }
  return { rows, rejects };
}
