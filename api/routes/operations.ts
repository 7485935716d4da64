// What operators and clients ask of the service itself: the OpenAPI document, liveness, readiness
// and the Prometheus metrics.
import compression from 'compression';
import express, { type Request, type Router } from 'express';
import type { Registry } from '../../lib/metrics.ts';
import type { CachedResponses } from '../cached-responses.ts';
import { HttpError, errorBody } from '../http-error.ts';
import { JSON_TYPE, sendJson } from '../json-response.ts';
import type { OpenApiDocument } from '../openapi.ts';
import { parseQuery, splitUrl } from '../query.ts';
import { makeCachedResponse } from '../response-cache.ts';
import { setRoute } from '../routing.ts';
import type { ValidatorOf } from './cubes.ts';

export interface OperationsDeps {
  responses: CachedResponses;
  validator: ValidatorOf;
  document: OpenApiDocument;
  registry: Registry;
  readMetrics: () => Promise<string>;
}

export function operationsRouter({
  responses,
  validator,
  document,
  registry,
  readMetrics,
}: OperationsDeps): Router {
  const router = express.Router();
  /** Endpoints without parameters still reject unknown or malformed ones. */
  const noParameters = (operationId: string, req: Request) =>
    validator(operationId).validate({}, parseQuery(splitUrl(req.url).query));

  const documentResponse = makeCachedResponse(
    '/openapi.json',
    JSON_TYPE,
    Buffer.from(JSON.stringify(document)),
    'openapi',
    '/openapi.json',
  );
  router.get('/openapi.json', (req, res) => {
    setRoute(res, '/openapi.json');
    noParameters('openapi', req);
    responses.send(req, res, documentResponse);
  });
  router.get('/healthz', (req, res) => {
    setRoute(res, '/healthz');
    noParameters('healthz', req);
    sendJson(res, 200, { status: 'ok' });
  });
  router.get('/readyz', (req, res) => {
    setRoute(res, '/readyz');
    noParameters('readyz', req);
    const readiness = responses.store.readiness();
    if (!readiness.ready) {
      sendJson(res, 503, errorBody('not_ready', readiness.reason));
      return;
    }
    sendJson(res, 200, { status: 'ready', date: readiness.snapshot.latestDate() });
  });
  router.get('/metrics', compression(), async (req, res) => {
    setRoute(res, '/metrics');
    noParameters('metrics', req);
    let body: string;
    try {
      body = await readMetrics();
    } catch (err) {
      throw new HttpError(503, 'metrics_unavailable', err instanceof Error ? err.message : String(err));
    }
    res.status(200).type(registry.contentType).setHeader('Cache-Control', 'no-store');
    res.end(body);
  });
  return router;
}
