// The Express app of the REST API, built by a factory (nothing listens at import). Routes, request
// validation and the OpenAPI document all come from the endpoint definitions in endpoints.ts,
// which derive from the cube catalogue: nothing about a cube is written twice. createApp only
// wires: middleware (middleware.ts), routers (routes/), the 405 of their paths (routing.ts), the
// 404 and error handler (error-handler.ts), the fast path's listener (fast-listener.ts) and the
// HTTP server (http-server.ts).
//
// Hot path of a cube endpoint: guard (URL length, path) -> helmet -> cors -> handler: snapshot
// (one Date.now()), response-cache lookup by URL, write of ready bytes. Everything expensive
// (validation, SQL, serialisation, gzip, ETag) happens once per URL and cube db version.
import express, { type Express } from 'express';
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/log.ts';
import { createRegistry, type Registry } from '../lib/metrics.ts';
import { CachedResponses } from './cached-responses.ts';
import { CubeStore } from './cube-store.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { fastListener } from './fast-listener.ts';
import { HttpMetrics } from './http-metrics.ts';
import { createHttpServer } from './http-server.ts';
import { parseOrigins, requestGuard, securityHeaders } from './middleware.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.ts';
import { compileValidators } from './request-validation.ts';
import { ResponseCache } from './response-cache.ts';
import { cubesRouter } from './routes/cubes.ts';
import { docsRouter } from './routes/docs.ts';
import { operationsRouter } from './routes/operations.ts';
import { methodNotAllowed } from './routing.ts';

export interface ApiOptions {
  /** cube_analytics.db, opened read-only. */
  cubeDbPath: string;
  /** `*` (default) or a comma-separated list of allowed origins. */
  corsOrigin?: string;
  logger?: Logger;
  registry?: Registry;
  /** How often the cube db file is checked for a swap (default 1000 ms). */
  reloadCheckMs?: number;
  /** max-age of cube responses (default 300 s); clients revalidate cheaply with the ETag. */
  cacheMaxAgeSeconds?: number;
  /** Longest accepted request URL (default 4096). */
  maxUrlLength?: number;
  /**
   * The text served at /metrics (default: this process's registry). A cluster worker reads the
   * whole API's from the primary instead.
   */
  readMetrics?: () => Promise<string>;
}

export interface Api {
  /** The Express app: every route, middleware and error handling. */
  app: Express;
  /**
   * The request listener to serve: a response-cache hit is written directly (same headers and
   * bytes Express sent the first time), everything else goes to `app`. Use it with
   * http.createServer or supertest.
   */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** A server for `handler` with the API's limits and error format for unparsable requests. */
  createServer(): http.Server;
  store: CubeStore;
  registry: Registry;
  document: OpenApiDocument;
  /** Closes the cube db connections (the HTTP server is the caller's). */
  close(): void;
}

export function createApp(options: ApiOptions): Api {
  const registry = options.registry ?? createRegistry({ service: 'api' });
  const metrics = new HttpMetrics(registry);
  const store = new CubeStore(options.cubeDbPath, {
    checkIntervalMs: options.reloadCheckMs ?? 1000,
    logger: options.logger,
    onReload: () => metrics.reloads.inc(),
  });
  const document = buildOpenApiDocument();
  const validators = compileValidators(Object.values(document.paths).map((p) => p.get));
  const validator = (operationId: string) => validators.get(operationId)!;
  const cors = parseOrigins(options.corsOrigin);
  const cacheControl = `public, max-age=${options.cacheMaxAgeSeconds ?? 300}`;
  const responses = new CachedResponses(store, new ResponseCache(), metrics, cacheControl, cors.wildcard);
  const readMetrics = options.readMetrics ?? (() => registry.metrics());

  const routers = [
    cubesRouter(responses, validator),
    operationsRouter({ responses, validator, document, registry, readMetrics }),
    docsRouter(document),
  ];
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ours are strong and computed once per cached response
  app.set('query parser', false); // parseQuery is strict where Express is lenient
  app.use(requestGuard(metrics, options.maxUrlLength ?? 4096));
  app.use(securityHeaders(cors));
  app.use(routers);
  app.use(methodNotAllowed(routers));
  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));

  const handler = fastListener(responses, app);
  return {
    app,
    handler,
    createServer: () => createHttpServer(handler),
    store,
    registry,
    document,
    close: () => store.close(),
  };
}
