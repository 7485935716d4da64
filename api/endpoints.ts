// What the API serves, derived from the cube catalogue (lib/cubes.ts): the friendly per-neighborhood
// views of SPEC section 6 and one raw endpoint per cube. The OpenAPI document, the request
// validation, the SQL and the response shapes are all generated from these definitions, so a
// column added to the catalogue shows up everywhere at once and nowhere by hand.
import {
  AGE_GROUPS,
  CUBES,
  CUBE_NAMES,
  GRAINS,
  INCOME_BRACKETS,
  columnsOf,
  type CubeColumn,
  type CubeDefinition,
} from '../lib/cubes.ts';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

/** One field of a response row: `name` may be dotted (`coverage.private`) to nest it. */
export interface RowField {
  name: string;
  column: CubeColumn;
  description: string;
}

/** A query parameter that filters rows on one cube column. */
export interface FilterParameter {
  name: string;
  column: CubeColumn;
  schema: JsonSchema;
  description: string;
}

export interface CubeEndpoint {
  kind: 'view' | 'cube';
  operationId: string;
  /** OpenAPI path template, e.g. /api/health-insurance/{ageGroup}. */
  path: string;
  summary: string;
  description: string;
  tag: string;
  cube: CubeDefinition;
  /** Name of the row schema in components.schemas. */
  rowSchema: string;
  fields: RowField[];
  filters: FilterParameter[];
  /** Dimension values every row of the endpoint has (e.g. grain = neighborhood). */
  fixed: { column: string; value: string }[];
  /** A path parameter that selects a dimension value, mapped from its URL slug. */
  pathParameter?: { name: string; column: string; values: Record<string, string>; description: string };
  /** Field names the rows are ordered by when `sort` is absent, and as tie-breakers after it. */
  defaultOrder: string[];
}

const column = (cube: CubeDefinition, name: string): CubeColumn => {
  const found = columnsOf(cube).find((c) => c.name === name);
  if (!found) throw new Error(`cube ${cube.name} has no column ${name}`);
  return found;
};

export const camelCase = (snake: string): string =>
  snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const SQL_TYPE_SCHEMA = { TEXT: 'string', INTEGER: 'integer', REAL: 'number' } as const;

/** The JSON Schema of a cube column's values in a response. */
export function valueSchema(c: CubeColumn): JsonSchema {
  const type = SQL_TYPE_SCHEMA[c.type];
  const schema: JsonSchema = { type: c.nullable ? [type, 'null'] : type, description: c.description };
  if (c.name === 'date') schema.format = 'date';
  if (c.name === 'grain') schema.enum = [...GRAINS];
  if (c.name === 'age_group') schema.enum = [...AGE_GROUPS];
  if (c.name === 'income_bracket') schema.enum = [...INCOME_BRACKETS, null];
  return schema;
}

/** The JSON Schema of a query parameter filtering on a cube column (never null: a value is given). */
export function filterSchema(c: CubeColumn): JsonSchema {
  if (c.name === 'grain') return { type: 'string', enum: [...GRAINS] };
  if (c.name === 'age_group') return { type: 'string', enum: [...AGE_GROUPS] };
  if (c.name === 'income_bracket') return { type: 'integer', enum: [...INCOME_BRACKETS] };
  if (c.type === 'INTEGER') return { type: 'integer', minimum: 0, maximum: 2_147_483_647 };
  if (c.type === 'REAL') return { type: 'number' };
  // No control characters: no name has one, and the query parser rejects them in any parameter.
  return { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001F\\u007F]+$' };
}

const field = (cube: CubeDefinition, columnName: string, name = camelCase(columnName)): RowField => {
  const c = column(cube, columnName);
  return { name, column: c, description: c.description };
};

const neighborhoodFilter = (cube: CubeDefinition): FilterParameter => ({
  name: 'neighborhood',
  column: column(cube, 'neighborhood'),
  schema: filterSchema(column(cube, 'neighborhood')),
  description: 'Only this neighborhood (exact name, case-insensitive for ASCII letters)',
});

/** The URL slug of an age group: `18_34` is served at `/api/health-insurance/18-34`. */
export const ageGroupSlug = (ageGroup: string): string => ageGroup.replace(/_/g, '-');

const hi = CUBES.health_insurance;
const income = CUBES.income;
const selfEmployment = CUBES.self_employment;

const VIEWS: CubeEndpoint[] = [
  {
    kind: 'view',
    operationId: 'getHealthInsurance',
    path: '/api/health-insurance/{ageGroup}',
    summary: 'Health-insurance coverage of one age group, per neighborhood',
    description:
      'One row per neighborhood: people of the age group, the uninsured and their rate, and the ' +
      'coverage breakdown by sector (private only, public only, both, none). Unknown values are null.',
    tag: 'neighborhoods',
    cube: hi,
    rowSchema: 'HealthInsuranceRow',
    fields: [
      field(hi, 'neighborhood'),
      field(hi, 'total'),
      field(hi, 'uninsured'),
      field(hi, 'uninsured_rate'),
      field(hi, 'private', 'coverage.private'),
      field(hi, 'public', 'coverage.public'),
      field(hi, 'both', 'coverage.both'),
      { ...field(hi, 'uninsured', 'coverage.none'), description: 'People with no coverage (= uninsured)' },
    ],
    filters: [neighborhoodFilter(hi)],
    fixed: [{ column: 'grain', value: 'neighborhood' }],
    pathParameter: {
      name: 'ageGroup',
      column: 'age_group',
      values: Object.fromEntries(AGE_GROUPS.map((g) => [ageGroupSlug(g), g])),
      description: 'Age group: under-18, 18-34, 35-64 or 65-plus',
    },
    defaultOrder: ['neighborhood'],
  },
  {
    kind: 'view',
    operationId: 'getSelfEmployment',
    path: '/api/self-employment',
    summary: 'Households with self-employment income, per neighborhood',
    description:
      'One row per neighborhood: households, those with and without self-employment income, and the rate.',
    tag: 'neighborhoods',
    cube: selfEmployment,
    rowSchema: 'SelfEmploymentRow',
    fields: [
      field(selfEmployment, 'neighborhood'),
      field(selfEmployment, 'households'),
      field(selfEmployment, 'with_self_employment_income'),
      field(selfEmployment, 'without_self_employment_income'),
      field(selfEmployment, 'self_employment_rate'),
    ],
    filters: [neighborhoodFilter(selfEmployment)],
    fixed: [{ column: 'grain', value: 'neighborhood' }],
    defaultOrder: ['neighborhood'],
  },
  {
    kind: 'view',
    operationId: 'getIncome',
    path: '/api/income',
    summary: 'Population and household income, per neighborhood',
    description:
      'One row per neighborhood: population, aggregate household income, per-capita income and the ' +
      'city income quintile (1 = lowest). Unknown income stays null, and so do the values derived from it.',
    tag: 'neighborhoods',
    cube: income,
    rowSchema: 'IncomeRow',
    fields: [
      field(income, 'neighborhood'),
      field(income, 'population'),
      field(income, 'aggregate_income'),
      field(income, 'per_capita_income'),
      field(income, 'income_bracket'),
    ],
    filters: [neighborhoodFilter(income)],
    fixed: [{ column: 'grain', value: 'neighborhood' }],
    defaultOrder: ['neighborhood'],
  },
];

/** Raw cube rows: every column under its catalogue name, every dimension a filter. */
const CUBE_ENDPOINTS: CubeEndpoint[] = CUBE_NAMES.map((name) => {
  const cube = CUBES[name];
  return {
    kind: 'cube',
    operationId: `getCube_${name}`,
    path: `/api/cubes/${name}`,
    summary: `Rows of the ${name} cube`,
    description: `${cube.description}. Rows of every grain (neighborhood, income_bracket and city roll-ups); filter with any dimension, e.g. ?grain=city.`,
    tag: 'cubes',
    cube,
    rowSchema: `${camelCase(`_${name}`)}CubeRow`,
    fields: columnsOf(cube).map((c) => ({ name: c.name, column: c, description: c.description })),
    filters: cube.dimensions
      .filter((c) => c.name !== 'date')
      .map((c) => ({
        name: c.name,
        column: c,
        schema: filterSchema(c),
        description: `Only rows with this ${c.name}`,
      })),
    fixed: [],
    defaultOrder: cube.dimensions.filter((c) => c.name !== 'date').map((c) => c.name),
  };
});

export const CUBE_ENDPOINTS_ALL: readonly CubeEndpoint[] = [...VIEWS, ...CUBE_ENDPOINTS];

/** The leaf field names a client may sort by, each ascending or with `-` descending. */
export function sortValues(endpoint: CubeEndpoint): string[] {
  return endpoint.fields.flatMap((f) => [f.name, `-${f.name}`]);
}

export const PAGE = { defaultLimit: 100, maxLimit: 1000, maxOffset: 1_000_000 } as const;
