// Builds the OpenAPI 3.1 document from the endpoint definitions (themselves derived from the cube
// catalogue). It is the source of truth of the HTTP surface: the app validates request parameters
// against it, the tests validate every response against it, and schemathesis fuzzes from it.
import { AGE_GROUPS, CUBES, CUBE_NAMES, GRAINS } from '../lib/cubes.ts';
import {
  CUBE_ENDPOINTS_ALL,
  PAGE,
  sortValues,
  valueSchema,
  type CubeEndpoint,
  type JsonSchema,
} from './endpoints.ts';

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path';
  required: boolean;
  description: string;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters: OpenApiParameter[];
  responses: Record<string, unknown>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  jsonSchemaDialect: string;
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, { get: OpenApiOperation }>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, unknown>;
    headers: Record<string, unknown>;
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const responseRef = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** Nests dotted field names (`coverage.private`) into object schemas; every field is required. */
function rowSchema(endpoint: CubeEndpoint): JsonSchema {
  const root: JsonSchema = { type: 'object', properties: {}, required: [], additionalProperties: false };
  for (const f of endpoint.fields) {
    const parts = f.name.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const props = node.properties as Record<string, JsonSchema>;
      if (!props[part]) {
        props[part] = { type: 'object', properties: {}, required: [], additionalProperties: false };
        (node.required as string[]).push(part);
      }
      node = props[part];
    }
    const leaf = parts[parts.length - 1]!;
    (node.properties as Record<string, JsonSchema>)[leaf] = {
      ...valueSchema(f.column),
      description: f.description,
    };
    (node.required as string[]).push(leaf);
  }
  return root;
}

const queryParam = (name: string, description: string, schema: JsonSchema): OpenApiParameter => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

function endpointParameters(endpoint: CubeEndpoint): OpenApiParameter[] {
  const params: OpenApiParameter[] = [];
  if (endpoint.pathParameter) {
    params.push({
      name: endpoint.pathParameter.name,
      in: 'path',
      required: true,
      description: endpoint.pathParameter.description,
      schema: { type: 'string', enum: Object.keys(endpoint.pathParameter.values) },
    });
  }
  params.push(
    queryParam('date', 'Logical date of the cube (YYYY-MM-DD); default: the latest date in the cube', {
      type: 'string',
      format: 'date',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
    }),
    ...endpoint.filters.map((f) => queryParam(f.name, f.description, f.schema)),
    queryParam(
      'sort',
      'Field to order by, ascending, or descending with a leading "-"; nulls come last either way',
      {
        type: 'string',
        enum: sortValues(endpoint),
      },
    ),
    queryParam('limit', `Rows per page (default ${PAGE.defaultLimit}, at most ${PAGE.maxLimit})`, {
      type: 'integer',
      minimum: 1,
      maximum: PAGE.maxLimit,
      default: PAGE.defaultLimit,
    }),
    queryParam('offset', 'Rows to skip before the page', {
      type: 'integer',
      minimum: 0,
      maximum: PAGE.maxOffset,
      default: 0,
    }),
    queryParam(
      'format',
      'Response format: json (default) or csv (header row of the field names, dotted when nested)',
      {
        type: 'string',
        enum: ['json', 'csv'],
        default: 'json',
      },
    ),
  );
  return params;
}

const cachedHeaders = {
  ETag: { $ref: '#/components/headers/ETag' },
  'Cache-Control': { $ref: '#/components/headers/CacheControl' },
};

function endpointOperation(endpoint: CubeEndpoint): OpenApiOperation {
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    description: endpoint.description,
    tags: [endpoint.tag],
    parameters: endpointParameters(endpoint),
    responses: {
      200: {
        description: 'One page of rows',
        headers: cachedHeaders,
        content: {
          ...json(ref(`${endpoint.rowSchema}List`)),
          'text/csv': { schema: { type: 'string' } },
        },
      },
      304: { description: 'Not modified (If-None-Match matched the ETag)', headers: cachedHeaders },
      400: responseRef('BadRequest'),
      404: responseRef('NotFound'),
      503: responseRef('Unavailable'),
    },
  };
}

function metaSchema(): JsonSchema {
  const scalar = { type: ['string', 'integer'] };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['date', 'count', 'total', 'limit', 'offset', 'sort', 'filters'],
    properties: {
      date: {
        type: ['string', 'null'],
        format: 'date',
        description: 'Date of the rows; null when the cube has no rows yet',
      },
      count: { type: 'integer', minimum: 0, description: 'Rows in this page' },
      total: { type: 'integer', minimum: 0, description: 'Rows matching the filters, all pages' },
      limit: { type: 'integer', minimum: 1 },
      offset: { type: 'integer', minimum: 0 },
      sort: { type: 'string', description: 'Effective order, e.g. -uninsuredRate,neighborhood' },
      filters: {
        type: 'object',
        additionalProperties: scalar,
        description: 'Filters applied, by parameter name',
      },
    },
  };
}

const columnSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'nullable', 'description'],
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['TEXT', 'INTEGER', 'REAL'] },
    nullable: { type: 'boolean' },
    description: { type: 'string' },
  },
};

const catalogueSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['data', 'meta'],
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'description', 'path', 'dimensions', 'measures', 'dates'],
        properties: {
          name: { type: 'string', enum: [...CUBE_NAMES] },
          description: { type: 'string' },
          path: { type: 'string', description: 'Endpoint serving the rows of the cube' },
          dimensions: { type: 'array', items: ref('Column') },
          measures: { type: 'array', items: ref('Column') },
          dates: {
            type: 'array',
            items: { type: 'string', format: 'date' },
            description: 'Dates with rows, latest first',
          },
        },
      },
    },
    meta: {
      type: 'object',
      additionalProperties: false,
      required: ['date', 'count', 'total'],
      properties: {
        date: { type: ['string', 'null'], format: 'date', description: 'Latest date of any cube' },
        count: { type: 'integer', minimum: 0 },
        total: { type: 'integer', minimum: 0 },
      },
    },
  },
};

const errorSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. unknown_parameter' },
        message: { type: 'string', description: 'What was wrong, for a human' },
      },
    },
  },
};

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

/** What the server answers on any path before routing, when a request exceeds its limits. */
const REQUEST_LIMIT_RESPONSES = {
  413: responseRef('BodyNotAllowed'),
  414: responseRef('UriTooLong'),
  431: responseRef('HeadersTooLarge'),
};

/** GET /api/cubes: the catalogue. */
function listCubesOperation(): OpenApiOperation {
  return {
    operationId: 'listCubes',
    summary: 'The cube catalogue',
    description:
      'Every cube with its dimensions, measures and the dates it has rows for. Its rows are at /api/cubes/{name}.',
    tags: ['cubes'],
    parameters: [],
    responses: {
      200: { description: 'The catalogue', headers: cachedHeaders, content: json(ref('Catalogue')) },
      304: { description: 'Not modified', headers: cachedHeaders },
      400: responseRef('BadRequest'),
      503: responseRef('Unavailable'),
    },
  };
}

/** The service's own endpoints: liveness, readiness, metrics and this document. */
function operationsPaths(): OpenApiDocument['paths'] {
  return {
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness: the process serves HTTP',
        tags: ['operations'],
        parameters: [],
        responses: {
          200: {
            description: 'Alive',
            content: json({
              type: 'object',
              additionalProperties: false,
              required: ['status'],
              properties: { status: { const: 'ok' } },
            }),
          },
          400: responseRef('BadRequest'),
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'Readiness: the cube db is present, readable and has every cube table',
        tags: ['operations'],
        parameters: [],
        responses: {
          200: {
            description: 'Ready',
            content: json({
              type: 'object',
              additionalProperties: false,
              required: ['status', 'date'],
              properties: {
                status: { const: 'ready' },
                date: { type: ['string', 'null'], format: 'date', description: 'Latest date of any cube' },
              },
            }),
          },
          400: responseRef('BadRequest'),
          503: responseRef('Unavailable'),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['operations'],
        parameters: [],
        responses: {
          200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          400: responseRef('BadRequest'),
          503: errorResponse('Cluster mode: the primary process did not return the aggregated metrics'),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This OpenAPI 3.1 document',
        tags: ['operations'],
        parameters: [],
        responses: {
          200: { description: 'The document', content: json({ type: 'object' }) },
          400: responseRef('BadRequest'),
        },
      },
    },
  };
}

/** The OpenAPI 3.1 document of the API. */
export function buildOpenApiDocument(version = '0.1.0'): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = {
    Error: errorSchema,
    Meta: metaSchema(),
    Column: columnSchema,
    Catalogue: catalogueSchema,
  };
  const paths: OpenApiDocument['paths'] = {};

  for (const endpoint of CUBE_ENDPOINTS_ALL) {
    schemas[endpoint.rowSchema] = rowSchema(endpoint);
    schemas[`${endpoint.rowSchema}List`] = {
      type: 'object',
      additionalProperties: false,
      required: ['data', 'meta'],
      properties: { data: { type: 'array', items: ref(endpoint.rowSchema) }, meta: ref('Meta') },
    };
    paths[endpoint.path] = { get: endpointOperation(endpoint) };
  }

  paths['/api/cubes'] = { get: listCubesOperation() };
  Object.assign(paths, operationsPaths());

  for (const item of Object.values(paths)) Object.assign(item.get.responses, REQUEST_LIMIT_RESPONSES);

  return {
    openapi: '3.1.0',
    info: {
      title: 'Census cubes API',
      version,
      description:
        'Analytic cubes of US census estimates for city neighborhoods (health insurance by age group, ' +
        'household income, self-employment), rebuilt daily by the pipeline. Every list response is ' +
        '`{ data, meta }`; errors are `{ error: { code, message } }`. Responses carry a strong ETag ' +
        '(If-None-Match gives 304) and are gzip-compressed on request. Swagger UI: /docs. ' +
        `Age groups: ${AGE_GROUPS.join(', ')}; grains: ${GRAINS.join(', ')}; cubes: ${Object.keys(CUBES).join(', ')}.`,
    },
    // OpenAPI 3.1's default dialect (JSON Schema 2020-12 plus the OAS vocabulary). Swagger UI supports
    // only this value and renders a warning box for any other.
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: '/' }],
    tags: [
      { name: 'neighborhoods', description: 'Per-neighborhood views of the cubes' },
      { name: 'cubes', description: 'The cube catalogue and raw cube rows (all grains)' },
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
    ],
    paths,
    components: { schemas, ...sharedComponents() },
  };
}

/** Responses and headers the operations refer to. */
function sharedComponents(): Omit<OpenApiDocument['components'], 'schemas'> {
  return {
    responses: {
      BadRequest: errorResponse(
        'Bad input: unknown or repeated parameter, invalid value, malformed encoding',
      ),
      NotFound: errorResponse('Unknown path value (age group, cube) or no rows for the requested date'),
      Unavailable: errorResponse('The cube database is missing or unreadable'),
      BodyNotAllowed: errorResponse('The request carried a body: this read-only API takes none'),
      UriTooLong: errorResponse('The request URL is longer than the server accepts'),
      HeadersTooLarge: errorResponse('The request headers are larger than the server accepts (16 kB)'),
    },
    headers: {
      ETag: { description: 'Strong validator of the representation', schema: { type: 'string' } },
      CacheControl: {
        description: 'Caching policy (the cubes change once a day)',
        schema: { type: 'string' },
      },
    },
  };
}
