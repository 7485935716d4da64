// Strict query-string parsing. Express's parser is lenient on purpose (it keeps malformed escapes as
// text, turns a repeated key into an array, nests `a[b]=`); an API that validates against its
// OpenAPI document wants the opposite: every parameter once, valid percent-encoded UTF-8, no
// control characters, so that a client's mistake gets a 400 that says what it was.
import { badRequest } from './http-error.ts';

/** Printable ASCII only: a raw byte >= 0x80 or a control character in a URL is malformed. */
const RAW_URL_RE = /^[\x21-\x7e]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

function decode(component: string, what: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    throw badRequest(
      'malformed_encoding',
      `${what} is not valid percent-encoded UTF-8: "${component.slice(0, 60)}"`,
    );
  }
}

/** Splits a raw URL into its path and query string (without the `?`). */
export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** Parses a raw query string into decoded name -> value; throws a 400 HttpError on bad input. */
export function parseQuery(raw: string): Map<string, string> {
  const params = new Map<string, string>();
  if (raw === '') return params;
  if (!RAW_URL_RE.test(raw)) {
    throw badRequest(
      'malformed_encoding',
      'query string contains raw non-ASCII or control characters; percent-encode them as UTF-8',
    );
  }
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq), 'query parameter name');
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1), `query parameter "${name}"`);
    if (name === '') throw badRequest('invalid_parameter', 'query parameter with an empty name');
    if (CONTROL_RE.test(name) || CONTROL_RE.test(value)) {
      throw badRequest(
        'invalid_character',
        `query parameter "${name.replace(CONTROL_RE, '?')}" contains a control character`,
      );
    }
    if (params.has(name)) {
      throw badRequest('repeated_parameter', `query parameter "${name}" is given more than once`);
    }
    params.set(name, value);
  }
  return params;
}

/**
 * Checks the raw path before routing: valid percent-encoding and no traversal. The API serves no
 * files from its paths, but a `..` or an encoded `/` in a path is never a legitimate request.
 */
export function checkPath(rawPath: string): void {
  if (!RAW_URL_RE.test(rawPath)) {
    throw badRequest('malformed_path', 'path contains raw non-ASCII or control characters');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw badRequest('malformed_path', 'path is not valid percent-encoded UTF-8');
  }
  if (
    CONTROL_RE.test(decoded) ||
    decoded.includes('\\') ||
    /(^|\/)\.\.?(\/|$)/.test(decoded) ||
    /%2f/i.test(rawPath)
  ) {
    throw badRequest('invalid_path', 'path traversal, encoded "/" or "\\" are not allowed in a path');
  }
}
