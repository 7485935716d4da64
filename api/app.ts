// The Express app of the REST API, built by a factory (nothing listens at import). Routes, request
// validation and the OpenAPI document all come from the endpoint definitions in endpoints.ts,
// which derive from the cube catalogue: nothing about a cube is written twice.
//
// Hot path of a cube endpoint: guard (URL length, path) -> helmet -> cors -> handler: snapshot
// (one Date.now()), response-cache lookup by URL, write of ready bytes. Everything expensive
// (validation, SQL, serialisation, gzip, ETag) happens once per URL and cube db version.
import compression from 'compression';
import cors from 'cors';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import helmet from 'helmet';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import swaggerUi from 'swagger-ui-express';
import { CUBES, CUBE_NAMES, type CubeColumn } from '../lib/cubes.ts';
import type { Logger } from '../lib/log.ts';
import { createRegistry, type Registry } from '../lib/metrics.ts';
import { CubeStore, type CubeSnapshot } from './cube-store.ts';
import { runCubeQuery } from './cube-query.ts';
import { toCsv } from './csv.ts';
import { CUBE_ENDPOINTS_ALL, type CubeEndpoint } from './endpoints.ts';
import { HttpError, errorBody, notFound, toHttpError } from './http-error.ts';
import { HttpMetrics } from './http-metrics.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.ts';
import { checkPath, parseQuery, splitUrl } from './query.ts';
import { compileValidators, type OperationValidator } from './request-validation.ts';
import { ResponseCache, makeCachedResponse, type CachedResponse } from './response-cache.ts';
import {
  captureMiddlewareHeaders,
  chooseRepresentation,
  ifNoneMatchHits,
  representationHeaders,
  writeFast,
  type MiddlewareHeaders,
} from './fast-path.ts';

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

const ALLOW = 'GET, HEAD';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Express's `{param}` -> `:param` for an OpenAPI path template. */
const expressPath = (template: string): string => template.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');

/** A catalogue column as the Column schema of the document has it. */
const describeColumn = ({ name, type, nullable, description }: CubeColumn) => ({
  name,
  type,
  nullable,
  description,
});

function setRoute(res: Response, route: string): void {
  res.locals.route = route;
}

export function createApp(options: ApiOptions): Api {
  const logger = options.logger;
  const registry = options.registry ?? createRegistry({ service: 'api' });
  const metrics = new HttpMetrics(registry);
  const store = new CubeStore(options.cubeDbPath, {
    checkIntervalMs: options.reloadCheckMs ?? 1000,
    logger,
    onReload: () => metrics.reloads.inc(),
  });
  const cache = new ResponseCache();
  const document = buildOpenApiDocument();
  const operations = Object.values(document.paths).map((p) => p.get);
  const validators = compileValidators(operations);
  const validator = (operationId: string): OperationValidator => validators.get(operationId)!;
  const cacheControl = `public, max-age=${options.cacheMaxAgeSeconds ?? 300}`;
  const maxUrlLength = options.maxUrlLength ?? 4096;
  const readMetrics = options.readMetrics ?? (() => registry.metrics());

  const origins = (options.corsOrigin ?? '*')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ours are strong and computed once per cached response
  app.set('query parser', false); // parseQuery is strict where Express is lenient

  /** Metrics, then the checks every request passes before routing. */
  const guard: RequestHandler = (req, res, next) => {
    metrics.track(req, res, () => (res.locals.route as string | undefined) ?? 'unmatched');
    const url = req.url;
    if (url.length > maxUrlLength) {
      return next(new HttpError(414, 'uri_too_long', `request URL longer than ${maxUrlLength} characters`));
    }
    if (
      (req.method === 'GET' || req.method === 'HEAD') &&
      (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined)
    ) {
      return next(new HttpError(413, 'body_not_allowed', 'this API takes no request body'));
    }
    try {
      checkPath(splitUrl(url).path);
    } catch (err) {
      return next(err);
    }
    next();
  };

  /** Headers of helmet and cors, captured from the first cached response Express sends. */
  let middlewareHeaders: MiddlewareHeaders | undefined;
  const corsWildcard = origins.includes('*');

  /** Writes a cached response: picks the representation, answers 304 when the client has it. */
  function sendCached(req: Request, res: Response, cached: CachedResponse): void {
    // Without an Origin (or with a wildcard policy) cors's headers are the same for every request.
    if (!middlewareHeaders && (corsWildcard || req.headers.origin === undefined)) {
      middlewareHeaders = captureMiddlewareHeaders(res.getHeaders());
    }
    const rep = chooseRepresentation(req, cached);
    const notModified = ifNoneMatchHits(req.headers['if-none-match'], rep.etag);
    for (const [name, value] of representationHeaders(cached, rep, cacheControl, notModified))
      res.setHeader(name, value);
    if (cached.gzip) res.vary('Accept-Encoding');
    res.statusCode = notModified ? 304 : 200;
    res.end(notModified ? undefined : rep.body);
  }

  /** A handler that serves from the response cache, computing the response on a miss. */
  function cached(
    route: string,
    compute: (req: Request, snapshot: CubeSnapshot) => { contentType: string; body: string },
  ): RequestHandler {
    return (req, res) => {
      setRoute(res, route);
      const snapshot = store.snapshot();
      let response = cache.get(snapshot.generation, req.url);
      if (response) {
        metrics.cacheLookup('hit');
      } else {
        metrics.cacheLookup('miss');
        // One snapshot per request: the ETag's identity and the rows come from the same file.
        const { contentType, body } = compute(req, snapshot);
        response = makeCachedResponse(route, contentType, Buffer.from(body), snapshot.identity, req.url);
        cache.set(snapshot.generation, req.url, response);
      }
      sendCached(req, res, response);
    };
  }

  function cubeEndpointHandler(endpoint: CubeEndpoint): RequestHandler {
    const fieldNames = endpoint.fields.map((f) => f.name);
    const check = validator(endpoint.operationId);
    return cached(endpoint.path, (req, snapshot) => {
      const request = check.validate(
        req.params as Record<string, string>,
        parseQuery(splitUrl(req.url).query),
      );
      const result = runCubeQuery(snapshot, endpoint, request);
      return request.query.format === 'csv'
        ? { contentType: 'text/csv; charset=utf-8', body: toCsv(fieldNames, result.rows) }
        : { contentType: JSON_TYPE, body: JSON.stringify({ data: result.rows, meta: result.meta }) };
    });
  }

  /** Endpoints without parameters still reject unknown or malformed ones. */
  const noParameters = (operationId: string) => (req: Request) =>
    validator(operationId).validate({}, parseQuery(splitUrl(req.url).query));

  const sendJson = (res: Response, status: number, body: unknown): void => {
    res.status(status).type(JSON_TYPE).setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(body));
  };

  app.use(guard);
  app.use(
    helmet({
      // Served over plain HTTP (behind whatever TLS the deployment adds): upgrading Swagger UI's
      // assets to https would break /docs on http://host:8000.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
      strictTransportSecurity: false,
    }),
  );
  app.use(
    cors({
      origin: corsWildcard ? '*' : origins,
      methods: ['GET', 'HEAD'],
      exposedHeaders: ['ETag', 'Content-Length'],
      maxAge: 86_400,
    }),
  );

  const knownPaths: string[] = [];
  for (const endpoint of CUBE_ENDPOINTS_ALL) {
    const path = expressPath(endpoint.path);
    app.get(path, cubeEndpointHandler(endpoint));
    knownPaths.push(path);
  }

  app.get(
    '/api/cubes',
    cached('/api/cubes', (req, snapshot) => {
      noParameters('listCubes')(req);
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
    }),
  );
  app.get('/api/cubes/:name', (req, res, next) => {
    setRoute(res, '/api/cubes/{name}');
    next(
      notFound(
        'unknown_cube',
        `unknown cube "${String(req.params.name).slice(0, 100)}"; cubes: ${CUBE_NAMES.join(', ')}`,
      ),
    );
  });
  knownPaths.push('/api/cubes', '/api/cubes/:name');

  const documentJson = Buffer.from(JSON.stringify(document));
  const documentResponse = makeCachedResponse(
    '/openapi.json',
    JSON_TYPE,
    documentJson,
    'openapi',
    '/openapi.json',
  );
  app.get('/openapi.json', (req, res) => {
    setRoute(res, '/openapi.json');
    noParameters('openapi')(req);
    sendCached(req, res, documentResponse);
  });
  app.get('/healthz', (req, res) => {
    setRoute(res, '/healthz');
    noParameters('healthz')(req);
    sendJson(res, 200, { status: 'ok' });
  });
  app.get('/readyz', (req, res) => {
    setRoute(res, '/readyz');
    noParameters('readyz')(req);
    const readiness = store.readiness();
    if (!readiness.ready) {
      sendJson(res, 503, errorBody('not_ready', readiness.reason));
      return;
    }
    sendJson(res, 200, { status: 'ready', date: readiness.snapshot.latestDate() });
  });
  app.get('/metrics', compression(), async (req, res) => {
    setRoute(res, '/metrics');
    noParameters('metrics')(req);
    let body: string;
    try {
      body = await readMetrics();
    } catch (err) {
      throw new HttpError(503, 'metrics_unavailable', (err as Error).message);
    }
    res.status(200).type(registry.contentType).setHeader('Cache-Control', 'no-store');
    res.end(body);
  });
  knownPaths.push('/openapi.json', '/healthz', '/readyz', '/metrics');

  // Swagger UI from the installed swagger-ui-dist (no CDN). Its page links its assets relatively,
  // so it must be served at /docs/ (with the slash): /docs redirects there.
  // validatorUrl null: no request to the public validator service; the page loads nothing external.
  const docsOptions = { customSiteTitle: 'Census cubes API', swaggerOptions: { validatorUrl: null } };
  const docsPage = swaggerUi.setup(document, docsOptions);
  app.use(
    '/docs',
    (req, res, next) => {
      setRoute(res, '/docs');
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      if (req.originalUrl.split('?')[0] === '/docs' || req.path === '/index.html')
        return res.redirect(301, '/docs/');
      if (req.path === '/') return docsPage(req, res, next);
      next();
    },
    compression(),
    ...swaggerUi.serveFiles(document, docsOptions),
  );

  for (const path of [...knownPaths, '/docs', '/docs/{*asset}']) {
    app.all(path, (req, _res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') return next();
      next(
        new HttpError(
          405,
          'method_not_allowed',
          `${req.method} is not allowed here; this API is read-only (${ALLOW})`,
          { Allow: ALLOW },
        ),
      );
    });
  }

  app.use((req, _res, next) => {
    next(
      notFound(
        'not_found',
        `no such endpoint: ${req.method} ${splitUrl(req.url).path.slice(0, 200)}; see /openapi.json or /docs`,
      ),
    );
  });

  const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
    let http = toHttpError(err);
    if (!http) {
      logger?.error({ err, method: req.method, url: req.url.slice(0, 500) }, 'request failed');
      http = new HttpError(500, 'internal_error', 'internal server error');
    } else if (http.status >= 500) {
      logger?.warn({ code: http.code, url: req.url.slice(0, 500) }, http.message);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(http.headers)) res.setHeader(name, value);
    // Errors are never cached, and their body is JSON whatever Content-Encoding a client asked for.
    res.removeHeader('ETag');
    res.removeHeader('Content-Encoding');
    sendJson(res, http.status, errorBody(http.code, http.message));
  };
  app.use(errorHandler);

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (
      middlewareHeaders !== undefined &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      (corsWildcard || req.headers.origin === undefined) &&
      req.headers['content-length'] === undefined &&
      req.headers['transfer-encoding'] === undefined
    ) {
      const snapshot = store.currentSnapshot();
      const hit = snapshot && cache.get(snapshot.generation, req.url!);
      if (hit) {
        const start = performance.now();
        metrics.cacheLookup('hit');
        const status = writeFast(req, res, hit, middlewareHeaders, cacheControl);
        // The ready bytes are handed to the socket synchronously: timing up to here, without a
        // 'finish' listener per request, measures the same thing for a cache hit.
        metrics.observe(req.method, hit.route, status, start);
        return;
      }
    }
    app(req, res);
  };

  /** An HTTP server for `handler`: bounded headers and timeouts, JSON errors for unparsable requests. */
  const createServer = (): http.Server => {
    const server = http.createServer({ maxHeaderSize: 16 * 1024 }, handler);
    // Slow or idle clients must not hold sockets forever; keep-alive outlives typical proxies' 60 s.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 65_000;
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Node's parser refused the request (raw non-ASCII in the URL, oversized headers, bad framing):
      // answer in the API's error format rather than with an empty 400.
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const [status, code, message] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'headers_too_large', 'request headers larger than 16 kB']
          : err.code === 'HPE_INVALID_URL' || err.code === 'HPE_INVALID_CHARACTER'
            ? [
                400,
                'malformed_encoding',
                'request line contains raw non-ASCII or control characters; percent-encode them as UTF-8',
              ]
            : [400, 'malformed_request', `malformed HTTP request (${err.code ?? 'parse error'})`];
      const body = JSON.stringify(errorBody(code, message));
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    return server;
  };

  return {
    app,
    handler,
    createServer,
    store,
    registry,
    document,
    close: () => store.close(),
  };
}
