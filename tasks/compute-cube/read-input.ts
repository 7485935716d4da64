// Reads the cube input of one date from base_de_donnees.db: donnees_formatees_latest holds, per
// date x Id, the latest population event joined with that Id's attributes (docs/CONTRACTS.md), so
// the producer's repeated loops never change a cube. Only the columns the cubes use are selected.
import fs from 'node:fs';
import { openReadonly, quoteIdent } from '../../lib/sqlite.ts';
import {
  ATTRIBUTE_COLUMNS,
  FACT_FIELDS,
  POPULATION_COLUMN,
  factsFromFieldValues,
  type NeighborhoodFacts,
} from './cube-math.ts';

export const INPUT_VIEW = 'donnees_formatees_latest';

/** The input is unusable (no database, no view, a missing column, no row for the date). */
export class CubeInputError extends Error {
  override name = 'CubeInputError';
}

export const INPUT_COLUMNS: readonly string[] = [
  'id',
  'neighborhood',
  POPULATION_COLUMN,
  ...ATTRIBUTE_COLUMNS,
];

/**
 * One value per fact field: the health sectors are summed by SQLite (`+` is NULL-propagating, as
 * sumOrNull), which returns 27 values a row instead of the 64 cells (each value crossing into JS
 * costs more than SQLite's addition). Column names come from lib/sources.ts, quoted anyway.
 */
export function selectFactsSql(withProducedAt = false): string {
  const fields = FACT_FIELDS.map((f) => f.columns.map(quoteIdent).join(' + '));
  if (withProducedAt) fields.push(PRODUCED_AT_COLUMN);
  return `SELECT id, neighborhood, ${fields.join(', ')} FROM ${INPUT_VIEW} WHERE date = ?`;
}

/** When the event was produced (ISO-8601 UTC): what the cubes' freshness is measured from. */
export const PRODUCED_AT_COLUMN = 'produced_at';

export interface CubeInput {
  facts: NeighborhoodFacts[];
  /**
   * The newest `producedAt` among the date's latest rows (ISO-8601), or null when the view has no
   * produced_at column (a database written before it existed).
   */
  newestEventAt: string | null;
}

export function readFacts(dbPath: string, date: string): CubeInput {
  if (!fs.existsSync(dbPath))
    throw new CubeInputError(`database not found: ${dbPath} (run the consumer first)`);
  const db = openReadonly(dbPath);
  try {
    const isView = db
      .prepare(`SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('view', 'table')`)
      .get(INPUT_VIEW);
    if (!isView) throw new CubeInputError(`${dbPath} has no ${INPUT_VIEW} (run the consumer first)`);
    const present = new Set(
      (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(INPUT_VIEW) as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    const missing = INPUT_COLUMNS.filter((c) => !present.has(c));
    if (missing.length > 0) {
      throw new CubeInputError(
        `${INPUT_VIEW} lacks ${missing.length} column(s): ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
      );
    }
    const withProducedAt = present.has(PRODUCED_AT_COLUMN);
    const select = db.prepare(selectFactsSql(withProducedAt)).raw(true);
    const facts: NeighborhoodFacts[] = [];
    const producedAtIndex = FACT_FIELDS.length + 2;
    let newestEventAt: string | null = null;
    for (const row of select.iterate(date) as Iterable<unknown[]>) {
      facts.push(factsFromFieldValues(row));
      // ISO-8601 UTC strings of one format order as their instants.
      const at = withProducedAt ? row[producedAtIndex] : null;
      if (typeof at === 'string' && (newestEventAt === null || at > newestEventAt)) newestEventAt = at;
    }
    if (facts.length === 0)
      throw new CubeInputError(
        `no rows for date ${date} in ${INPUT_VIEW} of ${dbPath} (did the consumer run for this date?)`,
      );
    return { facts, newestEventAt };
  } finally {
    db.close();
  }
}
