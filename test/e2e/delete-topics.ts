// Deletes the Kafka topics an end-to-end test created (best effort), so test runs leave no topics
// behind on a shared broker. Usable from other languages' tests:
//   node --import tsx test/e2e/delete-topics.ts <topic> [<topic> ...]     (brokers from KAFKA_BROKERS)
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

export async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Kafka({ clientId: 'e2e-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
  deleteTopics(brokers, process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`delete-topics: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
