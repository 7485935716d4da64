// Runs one endpoint's query against a cube snapshot. SQL text is assembled only from catalogue
// names (checked against an identifier pattern as a second guard) and the shape of the request
// (which filters, which sort); every value a client sent is a bound parameter.
import type { CubeRow } from '../lib/cubes.ts';
import { quoteIdent } from '../lib/sqlite.ts';
import { foldAscii, type CubeSnapshot } from './cube-store.ts';
import type { CubeEndpoint } from './endpoints.ts';
import { notFound } from './http-error.ts';
import type { ValidatedRequest } from './request-validation.ts';

export interface QueryResult {
  rows: Record<string, unknown>[];
  meta: {
    date: string | null;
    count: number;
    total: number;
    limit: number;
    offset: number;
    sort: string;
    filters: Record<string, string | number>;
  };
}

const IDENTIFIER_RE = /^[a-z_][a-z0-9_]*$/;

/** Only the catalogue's snake_case names reach SQL here: anything else is a bug, refused. */
function ident(name: string): string {
  if (!IDENTIFIER_RE.test(name)) throw new Error(`refusing SQL identifier ${JSON.stringify(name)}`);
  return quoteIdent(name);
}

/** Builds a response row from a result row whose keys are the columns (nesting dotted field names). */
function toRow(endpoint: CubeEndpoint, row: CubeRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of endpoint.fields) {
    const value = row[f.column.name] ?? null;
    const dot = f.name.indexOf('.');
    if (dot === -1) {
      out[f.name] = value;
    } else {
      const group = f.name.slice(0, dot);
      ((out[group] ??= {}) as Record<string, unknown>)[f.name.slice(dot + 1)] = value;
    }
  }
  return out;
}

/** The requested date (it must exist), else the latest; null when the cube has no rows at all. */
function resolveDate(snapshot: CubeSnapshot, endpoint: CubeEndpoint, requested: unknown): string | null {
  const dates = snapshot.dates(endpoint.cube);
  if (requested === undefined) return dates[0] ?? null;
  const date = String(requested);
  if (!dates.includes(date)) {
    throw notFound(
      'date_not_found',
      `no ${endpoint.cube.name} rows for date ${date}; dates available: ${dates.slice(0, 10).join(', ') || 'none'}`,
    );
  }
  return date;
}

/** WHERE clause and values: the date, the endpoint's fixed and path dimensions, the query's filters. */
function whereClause(
  snapshot: CubeSnapshot,
  endpoint: CubeEndpoint,
  request: ValidatedRequest,
  date: string,
  filters: Record<string, string | number>,
): { sql: string; values: (string | number)[] } {
  const { query } = request;
  const where: string[] = ['"date" = ?'];
  const values: (string | number)[] = [date];
  for (const f of endpoint.fixed) {
    where.push(`${ident(f.column)} = ?`);
    values.push(f.value);
  }
  if (endpoint.pathParameter) {
    const slug = String(request.path[endpoint.pathParameter.name]);
    where.push(`${ident(endpoint.pathParameter.column)} = ?`);
    values.push(endpoint.pathParameter.values[slug]!);
  }
  for (const f of endpoint.filters) {
    const value = query[f.name];
    if (value === undefined) continue;
    filters[f.name] = value;
    // A name that is not in the cube is a client mistake worth saying so (a typo, an injection
    // attempt), not an empty page.
    if (
      f.column.name === 'neighborhood' &&
      !snapshot.neighborhoods(endpoint.cube, date).has(foldAscii(String(value)))
    ) {
      throw notFound(
        'unknown_neighborhood',
        `no neighborhood named ${JSON.stringify(String(value).slice(0, 100))} in the ${endpoint.cube.name} cube on ${date}`,
      );
    }
    where.push(
      f.column.type === 'TEXT' ? `${ident(f.column.name)} = ? COLLATE NOCASE` : `${ident(f.column.name)} = ?`,
    );
    values.push(value);
  }
  return { sql: where.join(' AND '), values };
}

/** The requested sort, then the endpoint's default order for ties. */
function sortOrder(endpoint: CubeEndpoint, sort: unknown): { field: string; desc: boolean }[] {
  const order: { field: string; desc: boolean }[] = [];
  if (sort !== undefined) {
    const text = String(sort);
    const desc = text.startsWith('-');
    order.push({ field: desc ? text.slice(1) : text, desc });
  }
  for (const name of endpoint.defaultOrder) {
    if (!order.some((o) => o.field === name)) order.push({ field: name, desc: false });
  }
  return order;
}

export function runCubeQuery(
  snapshot: CubeSnapshot,
  endpoint: CubeEndpoint,
  request: ValidatedRequest,
): QueryResult {
  const { query } = request;
  const limit = query.limit as number;
  const offset = query.offset as number;
  const date = resolveDate(snapshot, endpoint, query.date);
  const filters: Record<string, string | number> = {};
  if (endpoint.pathParameter)
    filters[endpoint.pathParameter.name] = request.path[endpoint.pathParameter.name]!;
  if (date === null) {
    return { rows: [], meta: { date, count: 0, total: 0, limit, offset, sort: '', filters } };
  }

  const where = whereClause(snapshot, endpoint, request, date, filters);
  const byName = new Map(endpoint.fields.map((f) => [f.name, f]));
  const order = sortOrder(endpoint, query.sort);
  const orderSql = order
    .map((o) => `${ident(byName.get(o.field)!.column.name)} ${o.desc ? 'DESC' : 'ASC'} NULLS LAST`)
    .join(', ');
  const columns = [...new Set(endpoint.fields.map((f) => ident(f.column.name)))].join(', ');
  const from = `FROM ${ident(endpoint.cube.table)} WHERE ${where.sql}`;

  const total = snapshot
    .statement(`SELECT count(*) ${from}`)
    .pluck()
    .get(...where.values) as number;
  const raw = snapshot
    .statement(`SELECT ${columns} ${from} ORDER BY ${orderSql} LIMIT ? OFFSET ?`)
    .all(...where.values, limit, offset) as CubeRow[];
  const rows = raw.map((r) => toRow(endpoint, r));
  return {
    rows,
    meta: {
      date,
      count: rows.length,
      total,
      limit,
      offset,
      sort: order.map((o) => `${o.desc ? '-' : ''}${o.field}`).join(','),
      filters,
    },
  };
}
