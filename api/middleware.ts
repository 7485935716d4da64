// What every request passes before routing: metrics and the API's own limits (guard), then the
// security headers of helmet and the CORS policy.
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { HttpError } from './http-error.ts';
import type { HttpMetrics } from './http-metrics.ts';
import { checkPath, splitUrl } from './query.ts';

/** Metrics, then the checks every request passes before routing. */
export function requestGuard(metrics: HttpMetrics, maxUrlLength: number): RequestHandler {
  return (req, res, next) => {
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
}

/** `*` (any origin) or a list of allowed origins, from the comma-separated option. */
export function parseOrigins(corsOrigin = '*'): { origins: string[]; wildcard: boolean } {
  const origins = corsOrigin
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return { origins, wildcard: origins.includes('*') };
}

/** helmet's headers, then cors's. */
export function securityHeaders(cors_: { origins: string[]; wildcard: boolean }): RequestHandler[] {
  return [
    helmet({
      // Served over plain HTTP (behind whatever TLS the deployment adds): upgrading Swagger UI's
      // assets to https would break /docs on http://host:8000.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
      strictTransportSecurity: false,
    }),
    cors({
      origin: cors_.wildcard ? '*' : cors_.origins,
      methods: ['GET', 'HEAD'],
      exposedHeaders: ['ETag', 'Content-Length'],
      maxAge: 86_400,
    }),
  ];
}
