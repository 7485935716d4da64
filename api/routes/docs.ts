// Swagger UI at /docs/, from the installed swagger-ui-dist (no CDN). Its page links its assets
// relatively, so it must be served at /docs/ (with the slash): /docs redirects there.
import compression from 'compression';
import express, { type Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { OpenApiDocument } from '../openapi.ts';
import { setRoute } from '../routing.ts';

export function docsRouter(document: OpenApiDocument): Router {
  // validatorUrl null: no request to the public validator service; the page loads nothing external.
  const docsOptions = { customSiteTitle: 'Census cubes API', swaggerOptions: { validatorUrl: null } };
  const docsPage = swaggerUi.setup(document, docsOptions);
  // Swagger UI's handlers expect to be mounted at /docs (paths relative to it).
  const mounted = express.Router().use(
    '/docs',
    (req, res, next) => {
      if (req.originalUrl.split('?')[0] === '/docs' || req.path === '/index.html')
        return res.redirect(301, '/docs/');
      if (req.path === '/') return docsPage(req, res, next);
      next();
    },
    compression(),
    ...swaggerUi.serveFiles(document, docsOptions),
  );
  const router = express.Router();
  router.all(['/docs', '/docs/{*asset}'], (req, res, next) => {
    setRoute(res, '/docs');
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    mounted(req, res, next);
  });
  return router;
}
