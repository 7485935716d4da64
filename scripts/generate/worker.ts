// Worker thread of the generator: renders the batches the main thread asks for and hands the
// bytes back without copying (transferred ArrayBuffers). Rows depend only on (seed, Id), so the
// output is identical whichever thread renders a batch.
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceName } from '../../lib/sources.ts';
import { renderBatch } from './batch.ts';
import type { LineFormat } from './format.ts';
import { createRowGenerator } from './rows.ts';

export interface WorkerInit {
  format: LineFormat;
  sources: SourceName[];
}

export interface BatchRequest {
  seq: number;
  start: number;
  end: number;
}

export interface BatchResult {
  seq: number;
  chunks: Uint8Array[];
}

const init = workerData as WorkerInit;
const generateRow = createRowGenerator(init.format.seed);
const port = parentPort;
if (port === null) throw new Error('generator worker started outside a worker thread');

port.on('message', (request: BatchRequest) => {
  // Each chunk owns its ArrayBuffer (batch.ts), so it can be transferred rather than copied.
  const chunks = renderBatch(generateRow, init.format, init.sources, request.start, request.end);
  const result: BatchResult = { seq: request.seq, chunks };
  port.postMessage(
    result,
    chunks.map((c) => c.buffer as ArrayBuffer),
  );
});
