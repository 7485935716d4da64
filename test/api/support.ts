// Shared by the API's tests: a cube db built from data/sample by the real pipeline functions, and
// a checker of responses against the OpenAPI document the app serves (ajv, JSON Schema 2020-12).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { SOURCES } from '../../lib/sources.ts';
import { buildSampleCubeDb, SAMPLE_DIR } from '../fixtures/sample-cubes.ts';
import type { OpenApiDocument } from '../../api/openapi.ts';

export const SAMPLE_DATE = '2015-12-31';

/** A temporary directory with cube_analytics.db built from the sample for `date`. */
export async function sampleCubeDb(
  date = SAMPLE_DATE,
): Promise<{ dir: string; cubeDbPath: string; remove: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-test-'));
  const cubeDbPath = path.join(dir, 'cube_analytics.db');
  await buildSampleCubeDb(cubeDbPath, date);
  return { dir, cubeDbPath, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The rows of a sample source CSV, keyed by neighborhood, with the published headers. */
export function sampleCsv(source: keyof typeof SOURCES): Map<string, Record<string, string>> {
  const text = fs.readFileSync(path.join(SAMPLE_DIR, SOURCES[source].file), 'utf8');
  const parsed = Papa.parse<Record<string, string>>(text, {
    header: true,
    skipEmptyLines: true,
    comments: '#',
  });
  return new Map(parsed.data.map((r) => [r.Neighborhood!, r]));
}

const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export interface ResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text?: string;
}

/**
 * Validates a response against the document: its status must be documented for the operation,
 * and a JSON body must match the schema of that status. Returns the problems (empty when valid).
 */
export function openApiChecker(document: OpenApiDocument): (template: string, res: ResponseLike) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...document, $id: 'urn:api:openapi' });
  return (template, res) => {
    const operation = document.paths[template]?.get;
    if (!operation) return [`no GET ${template} in the document`];
    let response = operation.responses[String(res.status)] as Record<string, unknown> | undefined;
    if (!response) return [`status ${res.status} not documented for GET ${template}`];
    let base = `#/paths/${pointer(template)}/get/responses/${res.status}`;
    if (typeof response.$ref === 'string') {
      base = response.$ref;
      const name = response.$ref.split('/').pop()!;
      response = document.components.responses[name] as Record<string, unknown>;
    }
    const content = response.content as Record<string, unknown> | undefined;
    if (!content)
      return res.status === 304 || !res.text
        ? []
        : [`status ${res.status} of GET ${template} documents no body`];
    const type = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (!content[type]) return [`content type ${type} not documented for ${res.status} of GET ${template}`];
    if (type !== 'application/json') return [];
    const validate = ajv.compile({ $ref: `urn:api:openapi${base}/content/${pointer(type)}/schema` });
    return validate(res.body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}
