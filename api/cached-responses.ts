// Responses served from the response cache through Express: the first answer to a URL computes
// and caches its bytes; later ones (until the cube db is swapped) send them again. The headers
// helmet and cors set on such a response are captured here for the fast path (fast-listener.ts).
import type { Request, RequestHandler, Response } from 'express';
import type { CubeSnapshot, CubeStore } from './cube-store.ts';
import {
  captureMiddlewareHeaders,
  chooseRepresentation,
  ifNoneMatchHits,
  representationHeaders,
  type MiddlewareHeaders,
} from './fast-path.ts';
import type { HttpMetrics } from './http-metrics.ts';
import { setRoute } from './routing.ts';
import { makeCachedResponse, type CachedResponse, type ResponseCache } from './response-cache.ts';

export type ComputeResponse = (req: Request, snapshot: CubeSnapshot) => { contentType: string; body: string };

export class CachedResponses {
  /** Headers of helmet and cors, captured from the first cached response Express sends. */
  middlewareHeaders: MiddlewareHeaders | undefined;

  constructor(
    readonly store: CubeStore,
    readonly cache: ResponseCache,
    readonly metrics: HttpMetrics,
    readonly cacheControl: string,
    /** With a wildcard CORS policy cors's headers do not depend on the request's Origin. */
    readonly corsWildcard: boolean,
  ) {}

  /** Writes a cached response: picks the representation, answers 304 when the client has it. */
  send(req: Request, res: Response, cached: CachedResponse): void {
    // Without an Origin (or with a wildcard policy) cors's headers are the same for every request.
    if (!this.middlewareHeaders && (this.corsWildcard || req.headers.origin === undefined)) {
      this.middlewareHeaders = captureMiddlewareHeaders(res.getHeaders());
    }
    const rep = chooseRepresentation(req, cached);
    const notModified = ifNoneMatchHits(req.headers['if-none-match'], rep.etag);
    for (const [name, value] of representationHeaders(cached, rep, this.cacheControl, notModified))
      res.setHeader(name, value);
    if (cached.gzip) res.vary('Accept-Encoding');
    res.statusCode = notModified ? 304 : 200;
    res.end(notModified ? undefined : rep.body);
  }

  /** A handler that serves from the response cache, computing the response on a miss. */
  handler(route: string, compute: ComputeResponse): RequestHandler {
    return (req, res) => {
      setRoute(res, route);
      const snapshot = this.store.snapshot();
      let response = this.cache.get(snapshot.generation, req.url);
      if (response) {
        this.metrics.cacheLookup('hit');
      } else {
        this.metrics.cacheLookup('miss');
        // One snapshot per request: the ETag's identity and the rows come from the same file.
        const { contentType, body } = compute(req, snapshot);
        response = makeCachedResponse(route, contentType, Buffer.from(body), snapshot.identity, req.url);
        this.cache.set(snapshot.generation, req.url, response);
      }
      this.send(req, res, response);
    };
  }
}
