// Kafka's own benchmarks as anchors: org.apache.kafka.tools.ProducerPerformance and
// ConsumerPerformance, run from the stack's jars (scripts/stack/kafka-class.sh). Argument building
// and output parsing are pure; running goes through the timed child runner.
import type { Command } from './spawn.ts';

export const KAFKA_CLASS_SCRIPT = 'scripts/stack/kafka-class.sh';

export interface ProducerPerfOptions {
  bootstrap: string;
  topic: string;
  records: number;
  /** File of sample message values, one per line: same sizes and compressibility as ours. */
  payloadFile: string;
  compression: string;
  /** Extra producer properties matching our producer (batch size, linger). */
  props?: Record<string, string | number>;
}

export function producerPerfCommand(label: string, o: ProducerPerfOptions): Command {
  const props = {
    'bootstrap.servers': o.bootstrap,
    acks: 'all',
    'enable.idempotence': 'true',
    'compression.type': o.compression,
    ...o.props,
  };
  return {
    label,
    cmd: 'bash',
    args: [
      KAFKA_CLASS_SCRIPT,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      o.topic,
      '--num-records',
      String(o.records),
      '--throughput',
      '-1',
      '--payload-file',
      o.payloadFile,
      '--producer-props',
      ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
    ],
  };
}

export interface ConsumerPerfOptions {
  bootstrap: string;
  topic: string;
  messages: number;
  group: string;
  timeoutMs?: number;
}

export function consumerPerfCommand(label: string, o: ConsumerPerfOptions): Command {
  return {
    label,
    cmd: 'bash',
    args: [
      KAFKA_CLASS_SCRIPT,
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      o.bootstrap,
      '--topic',
      o.topic,
      '--messages',
      String(o.messages),
      '--group',
      o.group,
      '--timeout',
      String(o.timeoutMs ?? 60_000),
    ],
  };
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
}

const PRODUCER_LINE =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency/;

/** The summary line of ProducerPerformance: the last "records sent" line (the final one has percentiles). */
export function parseProducerPerf(stdout: string): ProducerPerfResult {
  const lines = stdout.split('\n').filter((l) => PRODUCER_LINE.test(l));
  const last = lines.at(-1);
  const m = last?.match(PRODUCER_LINE);
  if (!m) throw new Error(`no ProducerPerformance summary in its output: ${stdout.slice(-300)}`);
  return {
    records: Number(m[1]),
    recordsPerSecond: Number(m[2]),
    mbPerSecond: Number(m[3]),
    avgLatencyMs: Number(m[4]),
  };
}

export interface ConsumerPerfResult {
  messages: number;
  messagesPerSecond: number;
  /** Rate over fetch time only (excludes the group join/rebalance). */
  fetchMessagesPerSecond: number;
  mb: number;
}

/** ConsumerPerformance prints a CSV-ish header line and one value line. */
export function parseConsumerPerf(stdout: string): ConsumerPerfResult {
  const lines = stdout.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  if (headerAt < 0 || !lines[headerAt + 1]) {
    throw new Error(`no ConsumerPerformance summary in its output: ${stdout.slice(-300)}`);
  }
  const header = lines[headerAt]!.split(',').map((s) => s.trim());
  const values = lines[headerAt + 1]!.split(',').map((s) => s.trim());
  const get = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`ConsumerPerformance output has no ${name} column`);
    return Number(values[i]);
  };
  return {
    messages: get('data.consumed.in.nMsg'),
    messagesPerSecond: get('nMsg.sec'),
    fetchMessagesPerSecond: get('fetch.nMsg.sec'),
    mb: get('data.consumed.in.MB'),
  };
}
