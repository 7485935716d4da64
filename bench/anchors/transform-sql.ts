// The DuckDB anchor of transform_hdfs, as SQL built from lib/sources.ts: read the three attribute
// CSVs as text, clean every cell (ACS markers and empty -> NULL, `1,234` and `2558.0` -> integers,
// unreadable cell -> NULL, as the task does), reject rows whose Id is missing or not a positive
// integer and rows whose Id repeats within a source, inner-join on Id, write one CSV with the
// contract's header. Pure: returns statements, runs nothing.
import { KEY_COLUMNS, SOURCES, columnMapping, type SourceName } from '../../lib/sources.ts';
import { quoteIdent } from '../../lib/sqlite.ts';

/** The sources joined into all_data_joined.csv, in contract order. */
export const JOINED_SOURCES: readonly SourceName[] = ['income', 'health_insurance', 'self_employment'];

const WS = `' \t\r\n'`;

/** DuckDB quotes identifiers as SQLite does: one helper for both. */
export { quoteIdent };

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Macros shared by every cleaned column. */
export const CLEANING_MACROS: readonly string[] = [
  // Markers (`-`, `**`, `N/A`, `(X)`, empty) and garbage are not numbers: TRY_CAST makes them NULL.
  // DuckDB's cast skips surrounding whitespace (CR and tabs included); only cells that fail it
  // (separators `1,234`, markers, garbage) take the second, slower try.
  `CREATE OR REPLACE MACRO acs_real(s) AS COALESCE(TRY_CAST(s AS DOUBLE), TRY_CAST(replace(s, ',', '') AS DOUBLE))`,
  // Applied to the DOUBLE produced by acs_real (a column, so the repeated references cost nothing).
  `CREATE OR REPLACE MACRO acs_count(v) AS (CASE WHEN v >= 0 AND v = floor(v) AND v <= 9007199254740991 THEN CAST(v AS BIGINT) END)`,
  `CREATE OR REPLACE MACRO acs_margin(v) AS (CASE WHEN v >= 0 AND NOT isnan(v) AND NOT isinf(v) THEN v END)`,
  `CREATE OR REPLACE MACRO acs_id(s) AS (CASE WHEN regexp_full_match(trim(s, ${WS}), '[0-9]+(\\.0*)?') AND TRY_CAST(trim(s, ${WS}) AS DOUBLE) > 0 THEN CAST(TRY_CAST(trim(s, ${WS}) AS DOUBLE) AS BIGINT) END)`,
];

/**
 * Cleans one source file into table `clean_<source>` (+ rejects rows), reading the CSV twice: once
 * for the Id column only (projection pushdown: keys, bad keys and duplicates), once for the whole
 * rows, cleaned as they stream. Not strict: the generator's dirt mixes CRLF and LF line ends, which
 * strict sniffing refuses; the stray CR is trimmed with the other whitespace.
 */
export function cleanSourceSql(source: SourceName, file: string): string[] {
  const schema = SOURCES[source];
  const csv = `read_csv(${quoteLiteral(file)}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"', strict_mode = false)`;
  const keys = `keys_${source}`;
  const mapping = columnMapping(schema);
  // Two projections: the inner parses each cell once (text -> DOUBLE), the outer applies the rule.
  const parsed = mapping.map(
    ({ header, column }) => `acs_real(${quoteIdent(header)}) AS ${quoteIdent(column)}`,
  );
  const cells = mapping.map(({ header, column }) => {
    const fn = header.startsWith('Margin of Error;') ? 'acs_margin' : 'acs_count';
    return `${fn}(${quoteIdent(column)}) AS ${quoteIdent(column)}`;
  });
  const [neighborhood, id] = KEY_COLUMNS.map(quoteIdent);
  return [
    `CREATE OR REPLACE TEMP TABLE ${keys} AS SELECT ${id} AS raw_id, acs_id(${id}) AS id FROM ${csv}`,
    `CREATE OR REPLACE TEMP TABLE dup_${source} AS SELECT id FROM ${keys} WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1`,
    `INSERT INTO rejects SELECT ${quoteLiteral(source)}, raw_id, 'bad_key' FROM ${keys} WHERE id IS NULL`,
    `INSERT INTO rejects SELECT ${quoteLiteral(source)}, raw_id, 'duplicate_key' FROM ${keys} WHERE id IN (SELECT id FROM dup_${source})`,
    `CREATE OR REPLACE TEMP TABLE clean_${source} AS SELECT id, neighborhood, ${cells.join(', ')} FROM (SELECT acs_id(${id}) AS id, regexp_replace(trim(${neighborhood}, ${WS}), '\\s+', ' ', 'g') AS neighborhood, ${parsed.join(', ')} FROM ${csv}) WHERE id IS NOT NULL AND id NOT IN (SELECT id FROM dup_${source})`,
  ];
}

/** The joined SELECT: id, neighborhood, then every source's columns in schema order (any row order). */
export function joinedSelectSql(): string {
  const [first, ...rest] = JOINED_SOURCES;
  const columns = JOINED_SOURCES.flatMap((s) =>
    columnMapping(SOURCES[s]).map((m) => `${s}.${quoteIdent(m.column)}`),
  );
  const joins = rest.map((s) => `JOIN clean_${s} AS ${s} ON ${s}.id = ${first}.id`).join(' ');
  return `SELECT ${first}.id AS id, ${first}.neighborhood AS neighborhood, ${columns.join(', ')} FROM clean_${first} AS ${first} ${joins}`;
}

/** Every statement of the anchor, in order: macros, cleaning, join written to `outFile`. */
export function transformAnchorSql(
  inputs: Record<SourceName, string>,
  outFile: string,
  rejectsFile: string,
): string[] {
  return [
    ...CLEANING_MACROS,
    `CREATE OR REPLACE TEMP TABLE rejects (source VARCHAR, id VARCHAR, reason VARCHAR)`,
    ...JOINED_SOURCES.flatMap((s) => cleanSourceSql(s, inputs[s])),
    `COPY (${joinedSelectSql()}) TO ${quoteLiteral(outFile)} (HEADER, DELIMITER ',')`,
    `COPY rejects TO ${quoteLiteral(rejectsFile)} (HEADER, DELIMITER ',')`,
  ];
}
