// Creates the pipeline's topics on the local broker unless they exist (called by `stack up`).
// Through kafkajs rather than Kafka's TopicCommand: one Node process takes ~1 s where each JVM
// tool run takes several seconds on a 2-core machine.
import { loadConfig } from '../../lib/config.ts';
import { createKafka, ensureTopic, withBrokerErrors } from '../../lib/kafka.ts';

const { kafka: config } = loadConfig();
const admin = createKafka(config).admin();
try {
  await withBrokerErrors(config.brokers, async () => {
    await admin.connect();
    for (const topic of [config.topic, config.dlqTopic]) {
      const created = await ensureTopic(admin, topic, config.partitions);
      console.error(
        `stack: topic ${topic} ${created ? `created (${config.partitions} partitions)` : 'exists'}`,
      );
    }
  });
} catch (err) {
  console.error(`stack: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await admin.disconnect();
}
