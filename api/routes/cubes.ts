// The cube endpoints (one per cube and grain, from endpoints.ts) and the catalogue at /api/cubes,
// all served through the response cache.
import express, { type Router } from 'express';
import { CUBES, CUBE_NAMES, type CubeColumn } from '../../lib/cubes.ts';
import type { CachedResponses } from '../cached-responses.ts';
import { runCubeQuery } from '../cube-query.ts';
import { toCsv } from '../csv.ts';
import { CUBE_ENDPOINTS_ALL, type CubeEndpoint } from '../endpoints.ts';
import { notFound } from '../http-error.ts';
import { JSON_TYPE } from '../json-response.ts';
import { parseQuery, splitUrl } from '../query.ts';
import type { OperationValidator } from '../request-validation.ts';
import { expressPath, setRoute } from '../routing.ts';

export type ValidatorOf = (operationId: string) => OperationValidator;

/** A catalogue column as the Column schema of the document has it. */
const describeColumn = ({ name, type, nullable, description }: CubeColumn) => ({
  name,
  type,
  nullable,
  description,
});

function cubeEndpointHandler(responses: CachedResponses, endpoint: CubeEndpoint, check: OperationValidator) {
  const fieldNames = endpoint.fields.map((f) => f.name);
  return responses.handler(endpoint.path, (req, snapshot) => {
    const request = check.validate(req.params as Record<string, string>, parseQuery(splitUrl(req.url).query));
    const result = runCubeQuery(snapshot, endpoint, request);
    return request.query.format === 'csv'
      ? { contentType: 'text/csv; charset=utf-8', body: toCsv(fieldNames, result.rows) }
      : { contentType: JSON_TYPE, body: JSON.stringify({ data: result.rows, meta: result.meta }) };
  });
}

function listCubesHandler(responses: CachedResponses, validator: ValidatorOf) {
  return responses.handler('/api/cubes', (req, snapshot) => {
    validator('listCubes').validate({}, parseQuery(splitUrl(req.url).query));
    const data = CUBE_NAMES.map((name) => {
      const cube = CUBES[name];
      return {
        name,
        description: cube.description,
        path: `/api/cubes/${name}`,
        dimensions: cube.dimensions.map(describeColumn),
        measures: cube.measures.map(describeColumn),
        dates: snapshot.tables.has(cube.table) ? snapshot.dates(cube) : [],
      };
    });
    return {
      contentType: JSON_TYPE,
      body: JSON.stringify({
        data,
        meta: { date: snapshot.latestDate(), count: data.length, total: data.length },
      }),
    };
  });
}

export function cubesRouter(responses: CachedResponses, validator: ValidatorOf): Router {
  const router = express.Router();
  for (const endpoint of CUBE_ENDPOINTS_ALL) {
    router.get(
      expressPath(endpoint.path),
      cubeEndpointHandler(responses, endpoint, validator(endpoint.operationId)),
    );
  }
  router.get('/api/cubes', listCubesHandler(responses, validator));
  router.get('/api/cubes/:name', (req, res, next) => {
    setRoute(res, '/api/cubes/{name}');
    next(
      notFound(
        'unknown_cube',
        `unknown cube "${String(req.params.name).slice(0, 100)}"; cubes: ${CUBE_NAMES.join(', ')}`,
      ),
    );
  });
  return router;
}
