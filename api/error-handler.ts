// The end of the chain: the 404 of an unknown path and the error handler that turns whatever was
// thrown into the API's error body (an HttpError keeps its status; anything else is a 500).
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../lib/log.ts';
import { HttpError, errorBody, notFound, toHttpError } from './http-error.ts';
import { sendJson } from './json-response.ts';
import { splitUrl } from './query.ts';

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(
    notFound(
      'not_found',
      `no such endpoint: ${req.method} ${splitUrl(req.url).path.slice(0, 200)}; see /openapi.json or /docs`,
    ),
  );
};

export function errorHandler(logger?: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let httpError = toHttpError(err);
    if (!httpError) {
      logger?.error({ err, method: req.method, url: req.url.slice(0, 500) }, 'request failed');
      httpError = new HttpError(500, 'internal_error', 'internal server error');
    } else if (httpError.status >= 500) {
      logger?.warn({ code: httpError.code, url: req.url.slice(0, 500) }, httpError.message);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
    // Errors are never cached, and their body is JSON whatever Content-Encoding a client asked for.
    res.removeHeader('ETag');
    res.removeHeader('Content-Encoding');
    sendJson(res, httpError.status, errorBody(httpError.code, httpError.message));
  };
}
