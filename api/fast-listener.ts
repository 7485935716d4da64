// The request listener the HTTP server runs: a response-cache hit is written straight away by
// fast-path.ts (same headers and bytes Express sent the first time); everything else goes to the
// Express app.
import type { Express } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedResponses } from './cached-responses.ts';
import { writeFast } from './fast-path.ts';

export function fastListener(
  responses: CachedResponses,
  app: Express,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, cache, metrics, cacheControl, corsWildcard } = responses;
  return (req, res) => {
    const middlewareHeaders = responses.middlewareHeaders;
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
}
