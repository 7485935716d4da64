// The consumer's Prometheus metrics. The first three keep the seed's names (dashboards use them).
import {
  Counter,
  Gauge,
  Histogram,
  createRegistry,
  createRunGauges,
  type Registry,
} from '../../lib/metrics.ts';
import { REJECT_REASONS } from './message.ts';

export interface ConsumerMetrics {
  registry: Registry;
  processed: Counter;
  errors: Counter;
  rejects: Counter<'reason'>;
  duration: Histogram;
  lag: Gauge<'partition'>;
  joinedFallback: Counter;
  success: Gauge;
  lastSuccess: Gauge;
}

export function createConsumerMetrics(defaultLabels: Record<string, string> = {}): ConsumerMetrics {
  const registry = createRegistry(defaultLabels);
  const rejects = new Counter({
    name: 'consumer_rejects_total',
    help: 'Messages sent to the dead-letter topic, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Zero-initialised so every reason is a visible series before its first occurrence.
  for (const reason of REJECT_REASONS) rejects.inc({ reason }, 0);
  return {
    registry,
    processed: new Counter({
      name: 'processed_messages_total',
      help: 'Messages consumed and committed to SQLite (events stored)',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'processing_errors_total',
      help: 'Messages that could not be stored (sent to the dead-letter topic)',
      registers: [registry],
    }),
    rejects,
    // Observed once per batch with the per-message average: one observation per message would
    // cost more than the work it measures at 100k messages/s.
    duration: new Histogram({
      name: 'message_processing_duration_seconds',
      help: 'Processing time per message (parse, validate, enrich, commit), averaged over its batch',
      buckets: [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 0.1],
      registers: [registry],
    }),
    joinedFallback: new Counter({
      name: 'consumer_joined_fallback_total',
      help: 'Messages enriched from the latest joined file because their date has none of its own (--follow)',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'consumer_lag',
      help: 'Messages between the committed offset and the partition high watermark',
      labelNames: ['partition'],
      registers: [registry],
    }),
    ...createRunGauges(registry),
  };
}
