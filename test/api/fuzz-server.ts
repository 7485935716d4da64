// Serves the API on a free loopback port over cubes built from data/sample by the real pipeline
// functions (test/fixtures/sample-cubes.ts), for test/api/fuzz.sh. Prints `listening <port>` on stdout
// once ready; SIGTERM stops it and removes its temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAMPLE_DATE } from './support.ts';
import { buildSampleCubeDb } from '../fixtures/sample-cubes.ts';
import { createApp } from '../../api/app.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-fuzz-'));
const cubeDbPath = path.join(dir, 'cube_analytics.db');
await buildSampleCubeDb(cubeDbPath, SAMPLE_DATE);
const api = createApp({ cubeDbPath });
const server = api.createServer();
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  api.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
