// The producer's Prometheus metrics, pushed to the Pushgateway at the end of a run (and after
// every loop in --follow mode), failed runs included (pipeline_task_success 0).
import { Counter, Gauge, createRegistry, createRunGauges, type Registry } from '../../lib/metrics.ts';

export interface ProducerMetrics {
  registry: Registry;
  produced: Counter;
  rejects: Counter;
  loops: Counter;
  duration: Gauge;
  success: Gauge;
  lastSuccess: Gauge;
}

export function createProducerMetrics(defaultLabels: Record<string, string> = {}): ProducerMetrics {
  const registry = createRegistry(defaultLabels);
  return {
    registry,
    produced: new Counter({
      name: 'producer_messages_total',
      help: 'Messages acknowledged by Kafka (acks=all)',
      registers: [registry],
    }),
    rejects: new Counter({
      name: 'producer_rejects_total',
      help: 'CSV rows rejected by cleaning (not sent)',
      registers: [registry],
    }),
    loops: new Counter({
      name: 'producer_loops_total',
      help: 'Complete sends of the file',
      registers: [registry],
    }),
    duration: new Gauge({
      name: 'producer_duration_seconds',
      help: 'Duration of the producer run',
      registers: [registry],
    }),
    ...createRunGauges(registry),
  };
}
