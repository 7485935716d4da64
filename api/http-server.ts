// The HTTP server of the API: bounded headers and timeouts, and requests Node's parser refuses
// answered in the API's error format rather than with an empty 400.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './http-error.ts';
import { JSON_TYPE } from './json-response.ts';

/** The raw reply to a request Node's parser refused (there is no response object to use). */
export function clientErrorReply(err: NodeJS.ErrnoException): string {
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'request headers larger than 16 kB']
      : err.code === 'HPE_INVALID_URL' || err.code === 'HPE_INVALID_CHARACTER'
        ? [
            400,
            'malformed_encoding',
            'request line contains raw non-ASCII or control characters; percent-encode them as UTF-8',
          ]
        : [400, 'malformed_request', `malformed HTTP request (${err.code ?? 'parse error'})`];
  const body = JSON.stringify(errorBody(code, message));
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  socket.end(clientErrorReply(err));
}

export function createHttpServer(listener: (req: IncomingMessage, res: ServerResponse) => void): http.Server {
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, listener);
  // Slow or idle clients must not hold sockets forever; keep-alive outlives typical proxies' 60 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  server.on('clientError', onClientError);
  return server;
}
