// Probes that tell whether a Kafka broker and an HDFS NameNode answer, and describe them for the
// test log (cluster id, Hadoop version), so CI output shows which real services the tests used.
import { loadConfig } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { createKafka, ensureTopic, withBrokerErrors } from '../../lib/kafka.ts';

export interface Endpoints {
  kafkaBrokers: string[];
  hdfsUrl: string;
}

/** Describes the broker (cluster id, broker count); throws BrokerUnavailableError when unreachable. */
export async function describeKafka(brokers: string[]): Promise<string> {
  const admin = createKafka({ ...loadConfig().kafka, brokers }, { retries: 1 }).admin();
  try {
    return await withBrokerErrors(brokers, async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
    });
  } finally {
    await admin.disconnect();
  }
}

/** Describes the NameNode (Hadoop version, live DataNodes); throws HdfsUnavailableError when unreachable. */
export async function describeHdfs(url: string): Promise<string> {
  await new HdfsClient({ url, user: loadConfig().hdfs.user, timeoutMs: 5000 }).ping();
  try {
    const res = await fetch(`${url}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {
      signal: AbortSignal.timeout(5000),
    });
    const info = ((await res.json()) as { beans?: { Version?: string; LiveNodes?: string }[] }).beans?.[0];
    const live = Object.keys(JSON.parse(info?.LiveNodes ?? '{}') as object).length;
    return `Hadoop ${info?.Version?.split(',')[0] ?? 'unknown version'}, ${live} live DataNode(s)`;
  } catch {
    // JMX may be closed off on a managed cluster; WebHDFS answering is what the tests need.
    return 'WebHDFS answers';
  }
}

export async function answers(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch {
    return false;
  }
}

/** The pipeline's topics, created when missing (the local stack creates them itself). */
export async function ensurePipelineTopics(brokers: string[]): Promise<void> {
  const config = { ...loadConfig().kafka, brokers };
  const admin = createKafka(config).admin();
  try {
    await withBrokerErrors(brokers, async () => {
      await admin.connect();
      await ensureTopic(admin, config.topic, config.partitions);
      await ensureTopic(admin, config.dlqTopic, config.partitions);
    });
  } finally {
    await admin.disconnect();
  }
}
