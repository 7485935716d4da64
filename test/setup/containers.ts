// Last resort of the integration set-up: Kafka and HDFS in containers, when a Docker engine is
// reachable but neither given services nor the local stack are. Host ports are fixed (9092, 9870,
// 9864) because both services hand out addresses to clients: Kafka its advertised listener and the
// NameNode the DataNode address of its WebHDFS redirects; both must be reachable from the host.
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import type { Endpoints } from './probe.ts';

const KAFKA_IMAGE = process.env.TEST_KAFKA_IMAGE ?? 'apache/kafka:4.1.1';
const HADOOP_IMAGE = process.env.TEST_HADOOP_IMAGE ?? 'apache/hadoop:3.4.1';

export async function dockerAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export interface StartedServices {
  endpoints: Endpoints;
  stop(): Promise<void>;
}

function startKafka(): Promise<StartedTestContainer> {
  return new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: 9092, host: 9092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000)
    .start();
}

// NameNode and DataNode in one container: the DataNode registers as 127.0.0.1, and the host reaches
// 127.0.0.1:9864 through the fixed port mapping, so WebHDFS redirects work from the tests.
const HDFS_SCRIPT = [
  'set -e',
  'hdfs namenode -format -force -nonInteractive',
  'hdfs --daemon start namenode',
  'exec hdfs datanode',
].join('\n');

function startHdfs(): Promise<StartedTestContainer> {
  return new GenericContainer(HADOOP_IMAGE)
    .withExposedPorts({ container: 9870, host: 9870 }, { container: 9864, host: 9864 })
    .withEnvironment({
      'CORE-SITE.XML_fs.defaultFS': 'hdfs://127.0.0.1:9000',
      'HDFS-SITE.XML_dfs.namenode.rpc-address': '127.0.0.1:9000',
      'HDFS-SITE.XML_dfs.namenode.http-address': '0.0.0.0:9870',
      'HDFS-SITE.XML_dfs.datanode.http.address': '0.0.0.0:9864',
      'HDFS-SITE.XML_dfs.datanode.hostname': '127.0.0.1',
      'HDFS-SITE.XML_dfs.replication': '1',
      'HDFS-SITE.XML_dfs.permissions.enabled': 'false',
      'HDFS-SITE.XML_dfs.namenode.safemode.extension': '0',
    })
    .withCommand(['bash', '-c', HDFS_SCRIPT])
    .withWaitStrategy(Wait.forLogMessage(/Successfully sent block report/))
    .withStartupTimeout(300_000)
    .start();
}

export async function startContainers(): Promise<StartedServices> {
  const [kafka, hdfs] = await Promise.all([startKafka(), startHdfs()]);
  return {
    endpoints: { kafkaBrokers: ['127.0.0.1:9092'], hdfsUrl: 'http://127.0.0.1:9870' },
    async stop() {
      await Promise.all([kafka.stop(), hdfs.stop()]);
    },
  };
}
