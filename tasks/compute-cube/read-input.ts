// Reads the cube input of one date from base_de_donnees.db: donnees_formatees_latest holds, per
// date x Id, the latest population event joined with that Id's attributes (docs/CONTRACTS.md), so
// the producer's repeated loops never change a cube. Only the columns the cubes use are selected.
import fs from 'node:fs';
import { openReadonly } from '../../lib/sqlite.ts';
import { ATTRIBUTE_COLUMNS, POPULATION_COLUMN, factsReader, type NeighborhoodFacts } from './cube-math.ts';

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

export function readFacts(dbPath: string, date: string): NeighborhoodFacts[] {
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
    // Column names come from lib/sources.ts (snake_case identifiers), quoted anyway.
    const select = db
      .prepare(`SELECT ${INPUT_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM ${INPUT_VIEW} WHERE date = ?`)
      .raw(true);
    const read = factsReader(INPUT_COLUMNS);
    const facts: NeighborhoodFacts[] = [];
    for (const row of select.iterate(date) as Iterable<unknown[]>) facts.push(read(row));
    if (facts.length === 0)
      throw new CubeInputError(
        `no rows for date ${date} in ${INPUT_VIEW} of ${dbPath} (did the consumer run for this date?)`,
      );
    return facts;
  } finally {
    db.close();
  }
}
