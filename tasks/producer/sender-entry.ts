// The sender threads' entry module as plain JavaScript. A thread that loaded sender-worker.ts
// through tsx would register tsx's loader in its own isolate: a loader-hooks thread and an esbuild
// service process per sender (~25 MB each, most of what the producer's process tree weighed beyond
// Node itself). Instead, sender-worker.ts and the project modules it imports are bundled once per
// process (lib/esm-bundle.ts), and every thread loads that bundle from a data: URL; packages
// (kafkajs, pino) stay outside it and are imported by their absolute file URLs.
import { fileURLToPath } from 'node:url';
import { bundleEsm } from '../../lib/esm-bundle.ts';

const SOURCE = fileURLToPath(new URL('./sender-worker.ts', import.meta.url));
/**
 * The name stack traces and CPU profiles give the bundle (`sourceURL`), instead of its data: URL
 * (tens of kB of base64). No file has that name.
 */
const BUNDLE_NAME = new URL('./sender-worker.bundle.js', import.meta.url).href;

async function bundle(): Promise<URL> {
  const code = await bundleEsm(SOURCE, BUNDLE_NAME);
  // `bundle=` names the source in CPU profiles (bench/cpu-profile.ts), which show a module's URL.
  const base64 = Buffer.from(code).toString('base64');
  return new URL(`data:text/javascript;bundle=tasks/producer/sender-worker.ts;base64,${base64}`);
}

let entry: Promise<URL> | undefined;

/** The sender threads' entry module (built on the first call, then reused). */
export function senderEntry(): Promise<URL> {
  entry ??= bundle();
  // A failed build is not kept: a later pool may try again.
  entry.catch(() => (entry = undefined));
  return entry;
}
