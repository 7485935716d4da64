// Request parameters are validated by ajv against the parameter schemas of the OpenAPI document,
// so what the document says is what the server enforces. Query values arrive as strings: integer
// parameters are converted only from plain decimal digits (no "1e3", " 7" or "0x10"), then checked.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { HttpError, badRequest } from './http-error.ts';
import type { JsonSchema } from './endpoints.ts';
import type { OpenApiParameter } from './openapi.ts';

export type ParameterValues = Record<string, string | number>;

export interface ValidatedRequest {
  path: ParameterValues;
  query: ParameterValues;
}

const INTEGER_RE = /^-?[0-9]{1,16}$/;

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, useDefaults: true, strict: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  return ajv;
}

function objectSchema(params: OpenApiParameter[]): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
    required: params.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}

function convert(
  raw: Map<string, string> | Record<string, string>,
  params: OpenApiParameter[],
): Record<string, unknown> {
  const types = new Map(params.map((p) => [p.name, p.schema.type]));
  const out: Record<string, unknown> = {};
  const entries = raw instanceof Map ? raw.entries() : Object.entries(raw);
  for (const [name, value] of entries) {
    const type = types.get(name);
    out[name] = (type === 'integer' || type === 'number') && INTEGER_RE.test(value) ? Number(value) : value;
  }
  return out;
}

const show = (value: unknown): string => {
  const text = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** One clear sentence from the first ajv error. */
function describe(
  error: ErrorObject,
  where: 'query' | 'path',
  data: Record<string, unknown>,
  allowed: string[],
): string {
  if (error.keyword === 'additionalProperties') {
    const name = String((error.params as { additionalProperty: string }).additionalProperty);
    return allowed.length === 0
      ? `unknown query parameter "${name}": this endpoint takes no parameters`
      : `unknown ${where} parameter "${name}"; allowed: ${allowed.join(', ')}`;
  }
  const name = error.instancePath.split('/')[1] ?? '';
  const got = show(data[name]);
  const subject = `${where} parameter "${name}"`;
  switch (error.keyword) {
    case 'enum':
      return `${subject} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}; got ${got}`;
    case 'type':
      return `${subject} must be ${(error.params as { type: string }).type === 'integer' ? 'a non-negative decimal integer' : `of type ${(error.params as { type: string }).type}`}; got ${got}`;
    case 'format':
    case 'pattern':
      return name === 'date'
        ? `${subject} must be a calendar date YYYY-MM-DD; got ${got}`
        : `${subject} ${error.message}; got ${got}`;
    case 'required':
      return `missing ${where} parameter "${(error.params as { missingProperty: string }).missingProperty}"`;
    default:
      return `${subject} ${error.message ?? 'is invalid'}; got ${got}`;
  }
}

function codeOf(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return 'unknown_parameter';
  if (error.keyword === 'required') return 'missing_parameter';
  return 'invalid_parameter';
}

/** A compiled validator for one operation's path and query parameters. */
export class OperationValidator {
  private readonly queryParams: OpenApiParameter[];
  private readonly pathParams: OpenApiParameter[];
  private readonly validateQuery: ValidateFunction;
  private readonly validatePath: ValidateFunction;

  constructor(ajv: Ajv2020, parameters: OpenApiParameter[]) {
    this.queryParams = parameters.filter((p) => p.in === 'query');
    this.pathParams = parameters.filter((p) => p.in === 'path');
    this.validateQuery = ajv.compile(objectSchema(this.queryParams));
    this.validatePath = ajv.compile(objectSchema(this.pathParams));
  }

  /** Validated path and query values with the documented defaults filled in; throws a 4xx HttpError. */
  validate(pathRaw: Record<string, string>, queryRaw: Map<string, string>): ValidatedRequest {
    const path = convert(pathRaw, this.pathParams);
    if (!this.validatePath(path)) {
      // An unknown path value names a resource that does not exist: 404, not 400.
      const error = this.validatePath.errors![0]!;
      throw new HttpError(
        404,
        'not_found',
        describe(
          error,
          'path',
          path,
          this.pathParams.map((p) => p.name),
        ),
      );
    }
    const query = convert(queryRaw, this.queryParams);
    if (!this.validateQuery(query)) {
      const error = this.validateQuery.errors![0]!;
      throw badRequest(
        codeOf(error),
        describe(
          error,
          'query',
          query,
          this.queryParams.map((p) => p.name),
        ),
      );
    }
    return { path: path as ParameterValues, query: query as ParameterValues };
  }
}

/** Compiles the validators of every operation once, at app creation. */
export function compileValidators(
  operations: { operationId: string; parameters: OpenApiParameter[] }[],
): Map<string, OperationValidator> {
  const ajv = createAjv();
  return new Map(operations.map((op) => [op.operationId, new OperationValidator(ajv, op.parameters)]));
}
