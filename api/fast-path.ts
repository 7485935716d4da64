// The hot path: a cached response written straight from the HTTP server's request listener,
// before Express. Express's router, helmet and cors cost several times the write of a 10 kB buffer,
// and for a URL already answered since the last cube db swap they would recompute the same headers.
// So the headers Express's middleware set (helmet's, cors's) are captured from the first response
// it sends, and a cache hit replays them with the cached representation: same bytes, same headers.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CachedResponse } from './response-cache.ts';

export interface Representation {
  body: Buffer;
  etag: string;
  gzip: boolean;
}

export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || header === '') return false;
  for (const part of header.split(',')) {
    const [token, ...params] = part.trim().split(';');
    const name = token!.trim().toLowerCase();
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** If-None-Match against a strong ETag, with the weak comparison RFC 9110 prescribes for it. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export function chooseRepresentation(req: IncomingMessage, cached: CachedResponse): Representation {
  return cached.gzip !== undefined && acceptsGzip(req.headers['accept-encoding'])
    ? { body: cached.gzip.body, etag: cached.gzip.etag, gzip: true }
    : { body: cached.body, etag: cached.etag, gzip: false };
}

/** Headers of a cached representation, apart from the middleware's. */
export function representationHeaders(
  cached: CachedResponse,
  rep: Representation,
  cacheControl: string,
  notModified: boolean,
): [string, string][] {
  const headers: [string, string][] = [
    ['ETag', rep.etag],
    ['Cache-Control', cacheControl],
  ];
  if (!notModified) {
    headers.push(['Content-Type', cached.contentType], ['Content-Length', String(rep.body.length)]);
    if (rep.gzip) headers.push(['Content-Encoding', 'gzip']);
  }
  return headers;
}

/** Headers set by Express's middleware, captured once; Vary is kept apart to be merged. */
export interface MiddlewareHeaders {
  flat: string[];
  vary: string[];
}

export function captureMiddlewareHeaders(headers: OutgoingHttpHeaders): MiddlewareHeaders {
  const flat: string[] = [];
  let vary: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name === 'vary') {
      vary = String(value)
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      continue;
    }
    for (const v of Array.isArray(value) ? value : [String(value)]) flat.push(name, v);
  }
  return { flat, vary };
}

/** Writes a cached response with the captured middleware headers, no Express involved; returns the status. */
export function writeFast(
  req: IncomingMessage,
  res: ServerResponse,
  cached: CachedResponse,
  middleware: MiddlewareHeaders,
  cacheControl: string,
): number {
  const rep = chooseRepresentation(req, cached);
  const notModified = ifNoneMatchHits(req.headers['if-none-match'], rep.etag);
  // The full header list of each (representation, 304 or not) is built once per cached response.
  const slot = (rep.gzip ? 2 : 0) + (notModified ? 1 : 0);
  let flat = cached.wire[slot];
  if (!flat) {
    flat = middleware.flat.slice();
    for (const [name, value] of representationHeaders(cached, rep, cacheControl, notModified))
      flat.push(name, value);
    const vary = cached.gzip ? [...middleware.vary, 'Accept-Encoding'] : middleware.vary;
    if (vary.length > 0) flat.push('Vary', vary.join(', '));
    cached.wire[slot] = flat;
  }
  const status = notModified ? 304 : 200;
  res.writeHead(status, flat);
  res.end(notModified ? undefined : rep.body);
  return status;
}
