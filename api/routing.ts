// What the routers share: the route label of a request (the metrics' `route`), OpenAPI path
// templates as Express paths, and the 405 of every known path, derived from the routers themselves.
import express, { type Request, type Response, type Router } from 'express';
import { HttpError } from './http-error.ts';

export const ALLOW = 'GET, HEAD';

/** Express's `{param}` -> `:param` for an OpenAPI path template. */
export const expressPath = (template: string): string => template.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');

/** Labels the request with its route template for the HTTP metrics. */
export function setRoute(res: Response, route: string): void {
  res.locals.route = route;
}

/** The paths of a router's routes (its `get`, `all`... entries), in the order they were declared. */
export function routePaths(router: Router): string[] {
  const paths: string[] = [];
  for (const layer of router.stack as { route?: { path: string | string[] } }[]) {
    const path = layer.route?.path;
    if (path !== undefined) paths.push(...(Array.isArray(path) ? path : [path]));
  }
  return paths;
}

/**
 * A router answering 405 to any method but GET and HEAD on every path of `routers`; mounted after
 * them, it only sees what they did not answer. Other paths go on to the 404.
 */
export function methodNotAllowed(routers: readonly Router[]): Router {
  const router = express.Router();
  const paths = [...new Set(routers.flatMap(routePaths))];
  router.all(paths, (req: Request, _res, next) => {
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
  return router;
}
