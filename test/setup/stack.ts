// globalSetup of the `integration` project: finds the real Kafka and HDFS the tests run against, in
// this order, and exports them as KAFKA_BROKERS / HDFS_URL to the test workers (lib/config.ts reads them):
//   1. the services named by KAFKA_BROKERS / HDFS_URL, when set (they must answer: no fallback);
//   2. the local stack on loopback, started with `npm run stack -- up` when it does not answer;
//   3. containers (testcontainers) when a Docker engine is reachable;
// and fails with one message saying why when none is possible. A local stack it started is left
// running (other test runs and developers share it; `.ci/run` stops it); containers are stopped.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startContainers, dockerAvailable } from './containers.ts';
import { answers, describeHdfs, describeKafka, ensurePipelineTopics, type Endpoints } from './probe.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCAL: Endpoints = { kafkaBrokers: ['127.0.0.1:9092'], hdfsUrl: 'http://127.0.0.1:9870' };

function report(origin: string, kafka: string, hdfs: string, endpoints: Endpoints): void {
  console.log(
    [
      `integration tests run against (${origin}):`,
      `  Kafka ${endpoints.kafkaBrokers.join(',')} - ${kafka}`,
      `  HDFS  ${endpoints.hdfsUrl} - ${hdfs}`,
    ].join('\n'),
  );
}

function exportEndpoints(endpoints: Endpoints): void {
  process.env.KAFKA_BROKERS = endpoints.kafkaBrokers.join(',');
  process.env.HDFS_URL = endpoints.hdfsUrl;
}

async function localStackAnswers(): Promise<boolean> {
  const [kafka, hdfs] = await Promise.all([
    answers(() => describeKafka(LOCAL.kafkaBrokers)),
    answers(() => describeHdfs(LOCAL.hdfsUrl)),
  ]);
  return kafka && hdfs;
}

/** Runs `stack up`; resolves to undefined on success, else the reason (its last stderr line). */
function startLocalStack(): string | undefined {
  console.log('integration setup: local stack not answering; running `npm run stack -- up`');
  const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/stack/stack.sh'), 'up'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    timeout: 600_000,
  });
  process.stderr.write(result.stderr ?? '');
  if (result.status === 0) return undefined;
  const lastLine = (result.stderr ?? '').trim().split('\n').pop();
  return lastLine || result.error?.message || `exit ${result.status}`;
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const { KAFKA_BROKERS, HDFS_URL } = process.env;
  if (KAFKA_BROKERS || HDFS_URL) {
    const endpoints: Endpoints = {
      kafkaBrokers: (KAFKA_BROKERS || LOCAL.kafkaBrokers.join(',')).split(',').map((b) => b.trim()),
      hdfsUrl: (HDFS_URL || LOCAL.hdfsUrl).replace(/\/+$/, ''),
    };
    // Named services must answer: silently testing something else would hide a misconfiguration.
    const [kafka, hdfs] = await Promise.all([
      describeKafka(endpoints.kafkaBrokers),
      describeHdfs(endpoints.hdfsUrl),
    ]);
    await ensurePipelineTopics(endpoints.kafkaBrokers);
    exportEndpoints(endpoints);
    report('KAFKA_BROKERS / HDFS_URL', kafka, hdfs, endpoints);
    return undefined;
  }

  let stackFailure: string | undefined;
  if (!(await localStackAnswers())) stackFailure = startLocalStack();
  if (stackFailure === undefined && (await localStackAnswers())) {
    exportEndpoints(LOCAL);
    report(
      'local stack, npm run stack',
      await describeKafka(LOCAL.kafkaBrokers),
      await describeHdfs(LOCAL.hdfsUrl),
      LOCAL,
    );
    return undefined;
  }

  if (await dockerAvailable()) {
    console.log(`integration setup: local stack unavailable (${stackFailure}); starting containers`);
    const services = await startContainers();
    await ensurePipelineTopics(services.endpoints.kafkaBrokers);
    exportEndpoints(services.endpoints);
    report(
      'testcontainers',
      await describeKafka(services.endpoints.kafkaBrokers),
      await describeHdfs(services.endpoints.hdfsUrl),
      services.endpoints,
    );
    return () => services.stop();
  }

  throw new Error(
    `integration tests need Kafka and HDFS: KAFKA_BROKERS / HDFS_URL are not set, the local stack did not start ` +
      `(${stackFailure ?? 'it started but does not answer'}; install it with: bash scripts/stack/install.sh) ` +
      `and no Docker engine is reachable for testcontainers`,
  );
}
