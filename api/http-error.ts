// The one error type of the API: a status, a stable machine-readable code and a message that says
// what was wrong. The error handler turns it into `{ "error": { "code", "message" } }`; anything
// else thrown is a real server fault and is answered 500 without its stack.

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Allow on a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string): HttpError => new HttpError(400, code, message);
export const notFound = (code: string, message: string): HttpError => new HttpError(404, code, message);

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Maps what reached the error handler to an HttpError. Errors raised by Express or its middleware
 * carry a 4xx `status` (e.g. a malformed path parameter); they are the client's fault and keep it.
 */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  const status =
    (err as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = (err as { type?: unknown }).type;
    const code = typeof type === 'string' ? type.replace(/\./g, '_') : 'bad_request';
    return new HttpError(status, code, status === 400 ? 'malformed request' : (err as Error).message);
  }
  return undefined;
}
