// The API bench's anchor: a bare node:http server that answers every request with one recorded
// response of the API (same status, headers and body bytes), in as many processes as the API runs
// (node:cluster). What the API does beyond this (routing, validation, cache lookup, metrics) is the
// difference the bench measures.
//   node --import tsx bench/anchors/replay-server.ts <recorded.json> <port> <workers>
// Prints "listening <port>" once every worker listens.
import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';

export interface RecordedResponse {
  status: number;
  headers: Record<string, string>;
  /** Body, base64. */
  body: string;
}

/** Headers that belong to one connection or one moment, not to the response: not replayed. */
const HOP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** Records a response for replay (GET, no Accept-Encoding: the body autocannon receives too). */
export async function recordResponse(url: string): Promise<RecordedResponse> {
  const res = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) headers[name] = value;
  });
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()).toString('base64') };
}

function serve(recorded: RecordedResponse, port: number): void {
  const body = Buffer.from(recorded.body, 'base64');
  const headers = { ...recorded.headers, 'content-length': String(body.length) };
  http
    .createServer((_req, res) => {
      res.writeHead(recorded.status, headers);
      res.end(body);
    })
    .listen(port, '127.0.0.1', () => process.send?.('listening'));
}

function main(): void {
  const [file, portArg, workersArg] = process.argv.slice(2);
  if (!file || !portArg) throw new Error('usage: replay-server.ts <recorded.json> <port> [workers]');
  const port = Number(portArg);
  const workers = Math.max(1, Number(workersArg ?? '1'));
  if (cluster.isPrimary) {
    let listening = 0;
    for (let i = 0; i < workers; i++) {
      cluster.fork().on('message', () => {
        if (++listening === workers) console.log(`listening ${port}`);
      });
    }
    const stop = () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } else {
    serve(JSON.parse(fs.readFileSync(file, 'utf8')) as RecordedResponse, port);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
