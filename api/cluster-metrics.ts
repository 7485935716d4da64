// /metrics in cluster mode: the worker that receives the scrape asks the primary, which collects
// every worker's registry (prom-client's AggregatorRegistry: counters and histograms summed, each
// metric by its own aggregator) and answers with the text of the whole API, so a scrape means the
// same thing whichever worker serves it.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Registry } from '../lib/metrics.ts';

const REQUEST = 'api:cluster-metrics-request';
const RESPONSE = 'api:cluster-metrics-response';

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

const isRequest = (m: unknown): m is MetricsRequest => (m as MetricsRequest | null)?.type === REQUEST;
const isResponse = (m: unknown): m is MetricsResponse => (m as MetricsResponse | null)?.type === RESPONSE;

/** In the primary: answers the workers' requests for the aggregated metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isRequest(message)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text } satisfies MetricsResponse),
      (err: Error) =>
        worker.send({ type: RESPONSE, id: message.id, error: err.message } satisfies MetricsResponse),
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's aggregation and returns the function that reads
 * the aggregated text (rejects after `timeoutMs` without an answer).
 */
export function clusterMetricsReader(registry: Registry, timeoutMs = 10_000): () => Promise<string> {
  // Constructing an AggregatorRegistry in a worker installs prom-client's responder to the primary.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isResponse(message)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.text !== undefined) waiter.resolve(message.text);
    else waiter.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('cluster metrics: the primary did not answer'));
      }, timeoutMs);
      pending.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      process.send!({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
