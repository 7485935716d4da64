// transform-hdfs metrics, pushed to the Pushgateway (job transform_hdfs, grouped by date) at the
// end of every run, failed runs included (pipeline_task_success 0).
import { Counter, Gauge, createTaskMetrics, type Registry } from '../../lib/metrics.ts';

export interface TransformMetrics {
  registry: Registry;
  rowsIn: Counter<'source'>;
  rowsJoined: Counter;
  rejects: Counter<'reason'>;
  bytesWritten: Counter<'file'>;
  duration: Gauge;
  success: Gauge;
  lastSuccess: Gauge;
}

export function createTransformMetrics(): TransformMetrics {
  return createTaskMetrics({ task: 'transform_hdfs' }, (registers) => ({
    rowsIn: new Counter({
      name: 'transform_rows_in_total',
      help: 'Data rows read per source',
      labelNames: ['source'],
      registers,
    }),
    rowsJoined: new Counter({
      name: 'transform_rows_joined_total',
      help: 'Rows written to all_data_joined.csv',
      registers,
    }),
    rejects: new Counter({
      name: 'transform_rejects_total',
      help: 'Lines of rejects.csv by reason code (bad_cell and neighborhood_mismatch keep the row)',
      labelNames: ['reason'],
      registers,
    }),
    bytesWritten: new Counter({
      name: 'transform_bytes_written_total',
      help: 'Bytes written to HDFS per output file',
      labelNames: ['file'],
      registers,
    }),
    duration: new Gauge({ name: 'transform_duration_seconds', help: 'Duration of the run', registers }),
  }));
}
