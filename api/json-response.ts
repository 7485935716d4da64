// A JSON reply that is never cached: health, readiness and every error.
import type { Response } from 'express';

export const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).type(JSON_TYPE).setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}
